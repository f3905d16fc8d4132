// For the TypeORM CLI (`npx typeorm -d dist/migrations/data-source.js migration:show`). The product itself uses
// `npm run cli -- migrate`.
import { loadConfig } from '@app/core';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from './index.js';

export default new DataSource(dataSourceOptions(loadConfig()));
