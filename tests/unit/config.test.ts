import { describe, expect, it } from 'vitest';
import { collectorEnv } from '../../collectors/process.ts';
import { applyConnectTo, loadConfig, parseConnectTo } from '../../src/lib/server/config.ts';

describe('connect-to rules (curl semantics)', () => {
  it('maps a named host and port to another address, keeping the name', () => {
    const rules = [parseConnectTo('social.example:443:127.0.0.1:8443')];
    expect(applyConnectTo(rules, 'social.example', 443)).toEqual({
      host: '127.0.0.1',
      port: 8443,
      mapped: true
    });
    expect(applyConnectTo(rules, 'other.example', 443).mapped).toBe(false);
    expect(applyConnectTo(rules, 'social.example', 80).mapped).toBe(false);
  });
  it('treats empty parts as wildcards, and the first matching rule wins', () => {
    const rules = ['peer.example::[::1]:9000', '::127.0.0.1:'].map(parseConnectTo);
    expect(applyConnectTo(rules, 'PEER.example', 443)).toEqual({ host: '::1', port: 9000, mapped: true });
    expect(applyConnectTo(rules, 'any.example', 8443)).toEqual({
      host: '127.0.0.1',
      port: 8443,
      mapped: true
    });
  });
  it('refuses malformed rules with a message that shows the expected form', () => {
    expect(() => parseConnectTo('nonsense')).toThrow(/HOST1:PORT1:HOST2:PORT2/);
    expect(() => parseConnectTo('a:x:b:1')).toThrow(/not a port/);
  });
});

describe('configuration from the environment', () => {
  it('reads the database path, instance URL and connect-to rules', () => {
    const c = loadConfig({
      FEDIPULSE_DB: '/tmp/x.duckdb',
      FEDIPULSE_INSTANCE_URL: 'https://social.example/',
      FEDIPULSE_CONNECT_TO: '::127.0.0.1:1 a.example:443:127.0.0.1:2',
      FEDIPULSE_TOKEN: 'secret'
    });
    expect(c.dbPath).toBe('/tmp/x.duckdb');
    expect(c.instanceUrl).toBe('https://social.example');
    expect(c.connectTo).toHaveLength(2);
    expect(c.hasToken).toBe(true);
    expect(JSON.stringify(c)).not.toContain('secret');
  });
  it('rejects an instance URL that is not http(s)', () => {
    expect(() => loadConfig({ FEDIPULSE_INSTANCE_URL: 'ftp://x.example' })).toThrow(/https:\/\//);
    expect(() => loadConfig({ FEDIPULSE_INSTANCE_URL: 'social.example' })).toThrow(/not a URL/);
  });
});

describe('collector process environment', () => {
  it("sets DuckDB's allocator to return freed memory at once, unless the operator chose otherwise", () => {
    expect(collectorEnv({})).toEqual({ DUCKDB_JE_MALLOC_CONF: 'dirty_decay_ms:0,muzzy_decay_ms:0' });
    expect(collectorEnv({ DUCKDB_JE_MALLOC_CONF: 'dirty_decay_ms:1000' })).toEqual({
      DUCKDB_JE_MALLOC_CONF: 'dirty_decay_ms:1000'
    });
  });
});
