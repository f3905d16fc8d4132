import 'reflect-metadata';

// The configuration is validated while the modules load (entity column types depend on the database), so the
// app is imported dynamically: a bad environment then ends in one clear message and exit code 2, not a stack.
// (No top-level await: the bundle is CommonJS, see scripts/bundle.config.mjs.)
import('./bootstrap.js')
  .then(({ bootstrap }) => bootstrap())
  .catch((error: unknown) => {
    // A bad environment (exit 2) or a database that cannot be used (exit 1): one message saying what to fix, no stack.
    if (error instanceof Error && (error.name === 'ConfigError' || error.name === 'StartupError')) {
      process.stderr.write(`${error.message}\n`);
      process.exit(error.name === 'ConfigError' ? 2 : 1);
    }
    throw error;
  });
