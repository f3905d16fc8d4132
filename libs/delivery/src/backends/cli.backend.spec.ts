import { describe, expect, it } from '@jest/globals';
import { DomainErrorKind, parseConfig, Role } from '@app/core';
import { CliDeliveryBackend, expandArgs, optionLikeTextProblems } from './cli.backend.js';

const backend = () => new CliDeliveryBackend(parseConfig({ DELIVERY_CLI_COMMANDS: '/usr/local/bin/deliver' }));
const admin = { role: Role.Admin, keyId: 'a' };

describe(CliDeliveryBackend.name, () => {
  it('should put the text into the template arguments whole, and never expand placeholders inside the text', () => {
    expect(expandArgs(['-p', '{prompt}', '--neg={negative}', '{x}'], 'a {negative} $(id)', 'n')).toEqual([
      '-p',
      'a {negative} $(id)',
      '--neg=n',
      '{x}',
    ]);
  });

  it('should refuse non-admins with a forbidden error before looking at the params', () => {
    for (const role of [Role.Viewer, Role.Editor]) {
      expect(() => backend().validate({ command: '/usr/local/bin/deliver' }, { role, keyId: 'k' })).toThrow(
        expect.objectContaining({ kind: DomainErrorKind.Forbidden }),
      );
    }
  });

  it('should accept only an exact allow-listed path and name every bad field', () => {
    expect(backend().validate({ command: '/usr/local/bin/deliver', args: ['{prompt}'] }, admin)).toEqual({
      command: '/usr/local/bin/deliver',
      args: ['{prompt}'],
      stdin: false,
    });
    for (const command of ['/usr/local/bin/../bin/deliver', 'deliver', '/usr/local/bin/deliver ', '/bin/sh']) {
      expect(() => backend().validate({ command }, admin)).toThrow(/params\.command/);
    }
    expect(() => backend().validate({ command: '/usr/local/bin/deliver', args: 'x', shell: true }, admin)).toThrow(
      /params\.shell: unknown field.*params\.args/,
    );
  });

  it('should send the prompt on stdin unless an argument carries it, and refuse a delivery that would drop it', () => {
    const command = '/usr/local/bin/deliver';
    expect(backend().validate({ command }, admin)).toEqual({ command, args: [], stdin: true });
    expect(backend().validate({ command, args: ['--out', 'x.txt'] }, admin)).toMatchObject({ stdin: true });
    expect(backend().validate({ command, args: ['--p={prompt}'], stdin: true }, admin)).toMatchObject({ stdin: true });
    expect(() => backend().validate({ command, stdin: false }, admin)).toThrow(/params\.stdin: is false.*\{prompt\}/);
    expect(() => backend().validate({ command, args: ['{negative}'], stdin: false }, admin)).toThrow(/params\.stdin/);
  });
});

describe('optionLikeTextProblems', () => {
  it('should refuse prompt text that a whole-argument placeholder would turn into an option, naming the field', () => {
    expect(optionLikeTextProblems(['{prompt}'], '--evil-flag=1', '')).toEqual([
      { field: 'prompt', message: expect.stringContaining('"--" before "{prompt}"') },
    ]);
    expect(optionLikeTextProblems(['-n', '{negative}'], 'ok', '-x').map((p) => p.field)).toEqual(['negativePrompt']);
    expect(optionLikeTextProblems(['{prompt} and more'], '-rf', '').map((p) => p.field)).toEqual(['prompt']);
  });

  it('should allow it after "--", inside the template’s own option, and for text without a leading dash', () => {
    expect(optionLikeTextProblems(['--', '{prompt}'], '--evil-flag=1', '')).toEqual([]);
    expect(optionLikeTextProblems(['--prompt={prompt}'], '--evil', '')).toEqual([]);
    expect(optionLikeTextProblems(['{prompt}'], 'a fox -- running', '-n')).toEqual([]);
    expect(backend().textProblems({ command: '/usr/local/bin/deliver', args: [], stdin: true }, '-x', '')).toEqual([]);
  });
});
