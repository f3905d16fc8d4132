import { describe, expect, it } from '@jest/globals';
import { postgresStartProblem } from './database-preflight.js';

const URL_ = 'postgres://lora:pw@db.local:5433/newuser_db';

describe('postgresStartProblem', () => {
  it('should say what to do for each way a connection fails at start', () => {
    expect(postgresStartProblem(URL_, { code: '3D000' })).toBe(
      'database "newuser_db" does not exist on db.local:5433: create it (createdb -h db.local -p 5433 -U lora newuser_db, or CREATE DATABASE "newuser_db"), or point DATABASE_URL at an existing one',
    );
    expect(postgresStartProblem(URL_, { code: 'ECONNREFUSED' })).toBe(
      'connection refused to db.local:5433: start PostgreSQL there, or fix the host and port in DATABASE_URL',
    );
    expect(
      postgresStartProblem(URL_, { code: '28P01', message: 'password authentication failed for user "lora"' }),
    ).toContain('check the user and password in DATABASE_URL');
    expect(postgresStartProblem(URL_, { code: 'ENOTFOUND' })).toBe(
      'host "db.local" not found: fix the host in DATABASE_URL',
    );
    expect(postgresStartProblem(URL_, new Error('Connection terminated due to connection timeout'))).toContain(
      'no answer from db.local:5433',
    );
    expect(postgresStartProblem('postgres://db/x', new Error('odd'))).toBe('cannot connect to db:5432: odd');
  });
});
