import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { RecipeEntity } from './recipe.entity.js';

export interface RecipeListQuery {
  /** Text in the name, the prompt or the negative prompt. */
  q?: string;
  /** Recipes carrying this tag. */
  tag?: string;
  limit: number;
  offset: number;
}

const escapeLike = (text: string): string => text.replace(/[\\%_]/g, (c) => `\\${c}`);

@Injectable()
export class RecipeRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  private get pg(): boolean {
    return this.dataSource.options.type === 'postgres';
  }

  private get recipes() {
    return this.dataSource.getRepository(RecipeEntity);
  }

  async insertMany(rows: RecipeEntity[]): Promise<void> {
    await this.dataSource.transaction(async (m) => {
      for (const row of rows) await m.getRepository(RecipeEntity).insert(row);
    });
  }

  findById(id: string): Promise<RecipeEntity | null> {
    return this.recipes.findOneBy({ id });
  }

  /** Newest first, offset paging, with the total of the match. */
  async list(query: RecipeListQuery): Promise<{ items: RecipeEntity[]; total: number }> {
    const qb = this.recipes.createQueryBuilder('r');
    const like = this.pg ? 'ILIKE' : 'LIKE';
    if (query.q) {
      qb.andWhere(
        `(r.name ${like} :q ESCAPE '\\' OR r.prompt ${like} :q ESCAPE '\\' OR r.negative_prompt ${like} :q ESCAPE '\\')`,
        { q: `%${escapeLike(query.q)}%` },
      );
    }
    if (query.tag) {
      // Tags are stored as a JSON array of normalised strings: the quoted tag is a substring of its text.
      const column = this.pg ? 'r.tags::text' : 'r.tags';
      qb.andWhere(`${column} LIKE :tag ESCAPE '\\'`, { tag: `%${escapeLike(JSON.stringify(query.tag))}%` });
    }
    qb.orderBy('r.created_at', 'DESC').addOrderBy('r.id', 'DESC').skip(query.offset).take(query.limit);
    const [items, total] = await qb.getManyAndCount();
    return { items, total };
  }

  async save(row: RecipeEntity): Promise<void> {
    await this.recipes.save(row);
  }

  async delete(id: string): Promise<RecipeEntity | null> {
    const row = await this.findById(id);
    if (row) await this.recipes.delete({ id });
    return row;
  }
}
