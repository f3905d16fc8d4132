import type { MigrationInterface, QueryRunner } from 'typeorm';
import { MigrationColumns } from '@app/core';

/**
 * What the sidecars and the header carry that the index dropped:
 * - `version_description`: the Civitai version's own notes (often how to use it), which the model's description
 *   used to hide;
 * - `preview_embedded`: the header key of an image embedded in the LoRA (`modelspec.thumbnail`,
 *   `modelspec.preview_image`, `ssmd_cover_images`; LORA-FORMATS §6.2, tier 5), served when no preview file exists;
 * - `civitai_details`: Civitai facts without a column of their own (the AIR resource id, LoRA-Manager's "deleted
 *   from Civitai" flag, dislike, favorite and comment counts), as JSON.
 * They fill in at the next resync that reads the file (`import --force-resync` for every file at once).
 */
export class AdapterMoreSidecarFields1764300001300 implements MigrationInterface {
  name = 'AdapterMoreSidecarFields1764300001300';

  async up(queryRunner: QueryRunner): Promise<void> {
    const c = new MigrationColumns(queryRunner);
    if (c.pg) {
      await queryRunner.addColumns('adapters', [
        c.column(c.text('version_description', { isNullable: true })),
        c.column(c.varchar('preview_embedded', { length: '64', isNullable: true })),
        c.column(c.json('civitai_details', { isNullable: true })),
      ]);
    } else {
      // Plain ALTER TABLE (see migration 400): TypeORM's SQLite addColumns rebuilds the table.
      await queryRunner.query(`ALTER TABLE "adapters" ADD COLUMN "version_description" text`);
      await queryRunner.query(`ALTER TABLE "adapters" ADD COLUMN "preview_embedded" varchar(64)`);
      await queryRunner.query(`ALTER TABLE "adapters" ADD COLUMN "civitai_details" text`);
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const column of ['civitai_details', 'preview_embedded', 'version_description']) {
      await queryRunner.query(`ALTER TABLE "adapters" DROP COLUMN "${column}"`);
    }
  }
}
