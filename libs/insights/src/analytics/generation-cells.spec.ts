import { describe, expect, it } from '@jest/globals';
import { addJob, durationBin, emptyCell, foldCells, parseBins } from './generation-cells.js';

describe('generation cells', () => {
  it('should bin durations to two significant digits, keeping their order', () => {
    expect([0, 7.4, 99, 100, 104, 105, 995, 19_000, 19_049, 19_050, 3_456_789].map(durationBin)).toEqual([
      0, 7, 99, 100, 100, 110, 1000, 19_000, 19_000, 19_000, 3_500_000,
    ]);
  });

  it('should read both databases’ JSON objects, negative counts included', () => {
    expect(parseBins('{"2800":3,"12000":-1}')).toEqual([2800, 3, 12_000, -1]);
    expect(parseBins('{"2800": 3, "12000": 1}')).toEqual([2800, 3, 12_000, 1]);
    expect(parseBins('{}')).toEqual([]);
  });

  it('should give the nearest-rank p95 and the mean per bucket and backend, in order', () => {
    const ten = emptyCell('2026-01-10 10', 'sdnext-0');
    for (let s = 1; s <= 20; s++) addJob(ten, 'succeeded', s * 1000);
    addJob(ten, 'failed', null);
    const eleven = emptyCell('2026-01-10 11', 'sdnext-0');
    addJob(eleven, 'succeeded', 123_456);
    const none = emptyCell('2026-01-10 11', '');
    addJob(none, 'cancelled', null);
    expect(foldCells([eleven, none, ten], 13)).toEqual([
      expect.objectContaining({ bucket: '2026-01-10 10', count: 21, failed: 1, meanMs: 10_500, p95Ms: 19_000 }),
      expect.objectContaining({ bucket: '2026-01-10 11', backendId: null, cancelled: 1, p95Ms: null }),
      expect.objectContaining({ bucket: '2026-01-10 11', backendId: 'sdnext-0', p95Ms: 120_000 }),
    ]);
    // Of 21 timed runs the 20th smallest (ceil 19.95): 120 s rounded from 123.456 s.
    expect(foldCells([ten, eleven], null)).toEqual([
      expect.objectContaining({ bucket: null, count: 22, succeeded: 21, p95Ms: 20_000 }),
    ]);
  });
});
