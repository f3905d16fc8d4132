'use strict';
// The CLI bundle's stand-in for cosmiconfig (see scripts/bundle.config.mjs). nest-commander uses it only to find
// plugin configuration files when `CommandFactory.run` is given `usePlugins`, which this CLI never passes.
exports.cosmiconfig = () => {
  throw new Error('CLI plugins are not supported: cosmiconfig is left out of the bundle (scripts/bundle.config.mjs)');
};
