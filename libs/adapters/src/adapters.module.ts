import { Module } from '@nestjs/common';
import { JobName, rowIdQueuedJobSource } from '@app/core';
import { CivitaiHttpClient } from './civitai/civitai-http.client.js';
import { CivitaiLookupService } from './civitai/civitai-lookup.service.js';
import { CivitaiLookupJobHandler } from './civitai/civitai-lookup.handler.js';
import { CivitaiPort } from './civitai/civitai.port.js';
import { CivitaiLinkService } from './civitai/civitai-link.js';
import { CivitaiRunJobHandler } from './civitai/civitai-runs.handler.js';
import { CivitaiRunRepository } from './civitai/civitai-runs.repository.js';
import { CivitaiRunService } from './civitai/civitai-runs.service.js';
import { CivitaiSidecarWriter } from './civitai/civitai-sidecars.js';
import { CivitaiUpdateService } from './civitai/civitai-updates.js';
import { CivitaiDownloadJobHandler } from './civitai/civitai-download.handler.js';
import { CivitaiDownloadRepository } from './civitai/civitai-download.repository.js';
import { CivitaiDownloadService } from './civitai/civitai-download.service.js';
import { ExampleImagesJobHandler } from './civitai/example-images.handler.js';
import { ExampleImagesService } from './civitai/example-images.service.js';
import { HashJobHandler } from './hashing/hash.handler.js';
import { HashRunRepository } from './hashing/hash-run.repository.js';
import { HashRunService } from './hashing/hash-run.service.js';
import { ImportJobHandler } from './import-runs/import.handler.js';
import { ImportQueuedJobSource } from './import-runs/import-queued-job.source.js';
import { ImportRunRepository } from './import-runs/import-run.repository.js';
import { ImportRunService } from './import-runs/import-run.service.js';
import { ImportService } from './import-runs/import.service.js';
import { AdapterQueryRepository } from './library/adapter-query.repository.js';
import { AdapterQueryService } from './library/adapter-query.service.js';
import { AdapterRepository } from './library/adapter.repository.js';
import { LibraryRoots } from './library/library-roots.js';

/** The adapter library: roots, the importer with its job, and (with the query API) search and edits. */
@Module({
  providers: [
    LibraryRoots,
    AdapterRepository,
    ImportService,
    ImportRunRepository,
    ImportRunService,
    ImportJobHandler,
    ImportQueuedJobSource,
    AdapterQueryRepository,
    AdapterQueryService,
    HashRunRepository,
    HashRunService,
    HashJobHandler,
    rowIdQueuedJobSource(JobName.Hash, HashRunRepository),
    { provide: CivitaiPort, useClass: CivitaiHttpClient },
    CivitaiLookupService,
    CivitaiLookupJobHandler,
    CivitaiSidecarWriter,
    CivitaiLinkService,
    CivitaiUpdateService,
    CivitaiRunRepository,
    CivitaiRunService,
    CivitaiRunJobHandler,
    rowIdQueuedJobSource(JobName.CivitaiRun, CivitaiRunRepository),
    CivitaiDownloadRepository,
    CivitaiDownloadService,
    CivitaiDownloadJobHandler,
    rowIdQueuedJobSource(JobName.CivitaiDownload, CivitaiDownloadRepository),
    ExampleImagesService,
    ExampleImagesJobHandler,
  ],
  exports: [
    LibraryRoots,
    AdapterRepository,
    ImportService,
    ImportRunService,
    AdapterQueryService,
    HashRunService,
    CivitaiPort,
    CivitaiLookupService,
    CivitaiLinkService,
    CivitaiUpdateService,
    CivitaiRunService,
    CivitaiDownloadService,
    ExampleImagesService,
  ],
})
export class AdaptersModule {}
