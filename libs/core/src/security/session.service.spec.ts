import { describe, expect, it } from '@jest/globals';
import { parseConfig, Role } from '../config/app-config.js';
import { ApiKeyService } from './api-key.service.js';
import { SessionService } from './session.service.js';

const VIEWER = 'viewer-key-0123456789abcdef';
const ADMIN = 'admin-key-0123456789abcdefgh';
const SECRET = 's'.repeat(40);

const service = (env: Record<string, string>) => {
  const config = parseConfig(env);
  return new SessionService(config, new ApiKeyService(config));
};

describe(SessionService.name, () => {
  const keys = { API_KEYS: `${VIEWER}:viewer,${ADMIN}:admin`, SESSION_SECRET: SECRET };

  it('should open a session for a configured key with its role, and none for a wrong key or without keys', () => {
    const sessions = service(keys);
    const opened = sessions.open(ADMIN, 1_000);
    expect(opened?.session).toEqual({
      principal: { role: Role.Admin, keyId: expect.any(String) },
      expiresAt: new Date(1_000 + 12 * 3_600_000),
    });
    expect(sessions.verify(opened?.token, 2_000)?.principal.role).toBe(Role.Admin);
    expect(sessions.open('wrong-key-0123456789abcdef')).toBeNull();
    expect(service({}).open(ADMIN)).toBeNull();
  });

  it('should never put the key into the token', () => {
    const token = service(keys).open(VIEWER)?.token ?? '';
    const decoded = token
      .split('.')
      .map((part) => Buffer.from(part, 'base64url').toString('latin1'))
      .join('.');
    expect(token).not.toContain(VIEWER);
    expect(decoded).not.toContain(VIEWER);
  });

  it('should refuse an expired token, a forged one and one signed with another secret', () => {
    const sessions = service({ ...keys, SESSION_TTL_HOURS: '1' });
    const { token } = sessions.open(VIEWER, 0)!;
    expect(sessions.verify(token, 3_600_000 - 1)).not.toBeNull();
    expect(sessions.verify(token, 3_600_000)).toBeNull();
    const [body, signature] = token.split('.');
    const claims = JSON.parse(Buffer.from(body, 'base64url').toString()) as Record<string, unknown>;
    const forged = Buffer.from(JSON.stringify({ ...claims, e: 9e15 })).toString('base64url');
    expect(sessions.verify(`${forged}.${signature}`, 0)).toBeNull();
    expect(sessions.verify(`${body}.`, 0)).toBeNull();
    expect(sessions.verify('x'.repeat(600), 0)).toBeNull();
    expect(service({ ...keys, SESSION_SECRET: 't'.repeat(40) }).verify(token, 0)).toBeNull();
  });

  it('should end sessions on restart without SESSION_SECRET, and keep them across instances with it', () => {
    const { token } = service({ API_KEYS: keys.API_KEYS }).open(VIEWER)!;
    expect(service({ API_KEYS: keys.API_KEYS }).verify(token)).toBeNull();
    const shared = service(keys).open(VIEWER)!.token;
    expect(service(keys).verify(shared)?.principal.role).toBe(Role.Viewer);
  });

  it('should take the role of the key as configured now, and end the session of a removed key', () => {
    const { token } = service(keys).open(VIEWER)!;
    expect(service({ API_KEYS: `${VIEWER}:editor`, SESSION_SECRET: SECRET }).verify(token)?.principal.role).toBe(
      Role.Editor,
    );
    expect(service({ API_KEYS: `${ADMIN}:admin`, SESSION_SECRET: SECRET }).verify(token)).toBeNull();
  });
});
