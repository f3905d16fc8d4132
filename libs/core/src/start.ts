// How every app starts (apps/*/src/main.ts), apart from the rest of core: loading core would load the modules whose
// loading validates the configuration, and that must happen inside the error handling below.

/**
 * Loads an app's bootstrap module and runs it. The configuration is validated while the app's modules load (entity
 * column types depend on the database), so they load here: a bad environment ends in one clear message and exit
 * code 2, a database that cannot be used in exit code 1, not a stack. (No top-level await: the bundles are CommonJS,
 * see scripts/bundle.config.mjs.)
 */
export function startApp(load: () => Promise<{ bootstrap: () => Promise<void> }>): void {
  load()
    .then((app) => app.bootstrap())
    .catch((error: unknown) => {
      if (error instanceof Error && (error.name === 'ConfigError' || error.name === 'StartupError')) {
        process.stderr.write(`${error.message}\n`);
        process.exit(error.name === 'ConfigError' ? 2 : 1);
      }
      throw error;
    });
}
