import {
  AdapterEditEntity,
  AdapterEntity,
  AdapterTagEntity,
  CivitaiDownloadEntity,
  CivitaiRunEntity,
  CivitaiUpdateEntity,
  HashRunEntity,
  ImportRunEntity,
} from '@app/adapters';
import {
  type AppConfig,
  buildDataSourceOptions,
  type EntityList,
  type MigrationList,
  ProcessLeaseEntity,
  QueuedJobEntity,
} from '@app/core';
import { DeliveryJobEntity } from '@app/delivery';
import { BackendLeaseEntity, GenerationJobEntity } from '@app/generation';
import { RecommendationFeedbackEntity, RecommendationIndexStateEntity } from '@app/insights';
import { GenerationResultAdapterEntity, GenerationResultEntity, RecipeEntity } from '@app/results';
import { ProcessHeartbeatEntity } from '@app/insights';
import type { DataSourceOptions } from 'typeorm';
import { CreateQueuedJobs1764300000000 } from './1764300000000-create-queued-jobs.js';
import { CreateAdapters1764300000100 } from './1764300000100-create-adapters.js';
import { CreateGenerationJobs1764300000200 } from './1764300000200-create-generation-jobs.js';
import { CreateDeliveryJobs1764300000300 } from './1764300000300-create-delivery-jobs.js';
import { AddAdapterLoraNames1764300000400 } from './1764300000400-add-adapter-lora-names.js';
import { AdapterQueryIndexes1764300000500 } from './1764300000500-adapter-query-indexes.js';
import { AdapterSearchVector1764300000600 } from './1764300000600-adapter-search-vector.js';
import { AdapterFacetCounts1764300000700 } from './1764300000700-adapter-facet-counts.js';
import { AdapterTombstoneSearch1764300000800 } from './1764300000800-adapter-tombstone-search.js';
import { AdapterSearchTable1764300000900 } from './1764300000900-adapter-search-table.js';
import { AdapterSortIndexes1764300001000 } from './1764300001000-adapter-sort-indexes.js';
import { AdapterSha256Verified1764300001100 } from './1764300001100-adapter-sha256-verified.js';
import { AdapterFolderPrefixIndex1764300001200 } from './1764300001200-adapter-folder-prefix-index.js';
import { AdapterMoreSidecarFields1764300001300 } from './1764300001300-adapter-more-sidecar-fields.js';
import { AdapterFactsDigest1764300002500 } from './1764300002500-adapter-facts-digest.js';
import { AdapterInactiveByDefault1764300003000 } from './1764300003000-adapter-inactive-by-default.js';
import { AdapterHasWarnings1764300003010 } from './1764300003010-adapter-has-warnings.js';
import { CreateHashRuns1764300003300 } from './1764300003300-create-hash-runs.js';
import { AdapterCivitaiRemote1764300003400 } from './1764300003400-adapter-civitai-remote.js';
import { CreateProcessLeases1764300003500 } from './1764300003500-create-process-leases.js';
import { CreateGenerationResults1764300003600 } from './1764300003600-create-generation-results.js';
import { CreateCivitaiRuns1764300004000 } from './1764300004000-create-civitai-runs.js';
import { CreateCivitaiDownloads1764300004100 } from './1764300004100-create-civitai-downloads.js';
import { CreateRecipes1764300004300 } from './1764300004300-create-recipes.js';
import { CreateInsights1764300004600 } from './1764300004600-create-insights.js';
import { CreateRecommendations1764300004700 } from './1764300004700-create-recommendations.js';
import { AnalyticsRollups1764300004800 } from './1764300004800-analytics-rollups.js';
import { AdapterPairTotals1764300004900 } from './1764300004900-adapter-pair-totals.js';
import { AdapterCoUse1764300005000 } from './1764300005000-adapter-co-use.js';
import { AdapterSearchSortKeys1764300005100 } from './1764300005100-adapter-search-sort-keys.js';
import { AdapterCoveringCountIndexes1764300005200 } from './1764300005200-adapter-covering-count-indexes.js';
import { DropPrefixIndexes1764300005300 } from './1764300005300-drop-prefix-indexes.js';

/** Every entity of every lib; the drift test proves the migrations build exactly this schema. */
export const ENTITIES: EntityList = [
  QueuedJobEntity,
  AdapterEntity,
  AdapterTagEntity,
  ImportRunEntity,
  HashRunEntity,
  GenerationJobEntity,
  BackendLeaseEntity,
  DeliveryJobEntity,
  ProcessLeaseEntity,
  GenerationResultEntity,
  GenerationResultAdapterEntity,
  CivitaiRunEntity,
  CivitaiUpdateEntity,
  CivitaiDownloadEntity,
  RecipeEntity,
  RecommendationFeedbackEntity,
  RecommendationIndexStateEntity,
  AdapterEditEntity,
  ProcessHeartbeatEntity,
];

/** Applied in this order, on SQLite and on PostgreSQL alike. Never edit one that has landed. */
export const MIGRATIONS: MigrationList = [
  CreateQueuedJobs1764300000000,
  CreateAdapters1764300000100,
  CreateGenerationJobs1764300000200,
  CreateDeliveryJobs1764300000300,
  AddAdapterLoraNames1764300000400,
  AdapterQueryIndexes1764300000500,
  AdapterSearchVector1764300000600,
  AdapterFacetCounts1764300000700,
  AdapterTombstoneSearch1764300000800,
  AdapterSearchTable1764300000900,
  AdapterSortIndexes1764300001000,
  AdapterSha256Verified1764300001100,
  AdapterFolderPrefixIndex1764300001200,
  AdapterMoreSidecarFields1764300001300,
  AdapterFactsDigest1764300002500,
  AdapterInactiveByDefault1764300003000,
  AdapterHasWarnings1764300003010,
  CreateHashRuns1764300003300,
  AdapterCivitaiRemote1764300003400,
  CreateProcessLeases1764300003500,
  CreateGenerationResults1764300003600,
  CreateCivitaiRuns1764300004000,
  CreateCivitaiDownloads1764300004100,
  CreateRecipes1764300004300,
  CreateInsights1764300004600,
  CreateRecommendations1764300004700,
  AnalyticsRollups1764300004800,
  AdapterPairTotals1764300004900,
  AdapterCoUse1764300005000,
  AdapterSearchSortKeys1764300005100,
  AdapterCoveringCountIndexes1764300005200,
  DropPrefixIndexes1764300005300,
];

export function dataSourceOptions(config: AppConfig): DataSourceOptions {
  return buildDataSourceOptions(config, { entities: ENTITIES, migrations: MIGRATIONS });
}
