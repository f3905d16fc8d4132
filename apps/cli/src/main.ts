import 'reflect-metadata';

// The configuration is validated while the modules load (entity column types depend on the database), so the
// app is imported dynamically: a bad environment then ends in one clear message and exit code 2, not a stack.
try {
  const { bootstrap } = await import('./bootstrap.js');
  await bootstrap();
} catch (error) {
  if (error instanceof Error && error.name === 'ConfigError') {
    process.stderr.write(`${error.message}\n`);
    process.exit(2);
  }
  throw error;
}
