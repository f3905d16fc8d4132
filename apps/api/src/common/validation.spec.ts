import { describe, expect, it } from '@jest/globals';
import { Transform } from 'class-transformer';
import { IsIn, IsOptional } from 'class-validator';
import { OptionalIntegerQuery, toList } from './query-params.js';
import { createValidationPipe, RequestValidationException } from './validation.js';

class ListQuery {
  @OptionalIntegerQuery(1, 200)
  limit?: number;

  @IsOptional()
  @Transform(toList)
  @IsIn(['baseModel', 'tags'], { each: true })
  facets?: string[];
}

class OtherQuery {
  @OptionalIntegerQuery(1, 10)
  limit?: number;
}

const asQuery = (metatype: new () => object) => ({ type: 'query' as const, metatype, data: undefined });

describe('the validation pipe on whole query DTOs', () => {
  it('should give a repeated query the same validated DTO, each request its own copy', async () => {
    const pipe = createValidationPipe();
    const first = (await pipe.transform({ limit: '50', facets: 'baseModel,tags' }, asQuery(ListQuery))) as ListQuery;
    first.facets?.push('changed by a handler');
    first.limit = 1;
    const second = (await pipe.transform({ limit: '50', facets: 'baseModel,tags' }, asQuery(ListQuery))) as ListQuery;
    expect(second).toBeInstanceOf(ListQuery);
    expect({ ...second }).toEqual({ limit: 50, facets: ['baseModel', 'tags'] });
    second.facets?.pop();
    const third = (await pipe.transform({ limit: '50', facets: 'baseModel,tags' }, asQuery(ListQuery))) as ListQuery;
    expect(third.facets).toEqual(['baseModel', 'tags']);
  });

  it('should refuse a bad query every time, and judge the same query string by each DTO class', async () => {
    const pipe = createValidationPipe();
    for (let i = 0; i < 2; i++) {
      await expect(pipe.transform({ limit: '0' }, asQuery(ListQuery))).rejects.toBeInstanceOf(
        RequestValidationException,
      );
      await expect(pipe.transform({ limit: '50', extra: '1' }, asQuery(ListQuery))).rejects.toThrow(
        'extra: unknown field',
      );
    }
    expect({ ...((await pipe.transform({ limit: '50' }, asQuery(ListQuery))) as object) }).toEqual({ limit: 50 });
    await expect(pipe.transform({ limit: '50' }, asQuery(OtherQuery))).rejects.toThrow('limit');
  });
});
