/**
 * Logins from the serve config (src/config): no users, no logins; once a user is named every
 * path asks for one; top-level users everywhere, a path's users there; `user: any` is the only
 * way to open a path without a login. The rule is decided here, without a network: the
 * ConfigServer's `authorize` and `allowAnonymous` hooks are what the server calls.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ConfigServer } from '../../../src/config/config-server.js'
import { ConfigError, parseServeConfig } from '../../../src/config/serve-config.js'
import type { RtspServer } from '../../../src/server/server.js'

/** A runner over a config whose paths have no source or recording (nothing to start). */
async function runner(yaml: string): Promise<{ cs: ConfigServer; errors: string[] }> {
  const cs = new ConfigServer({} as RtspServer)
  const r = await cs.apply(parseServeConfig(yaml, 'rtspkit.yml'))
  return { cs, errors: r.errors }
}

const CONFIG = `users:
  - user: admin
    password: adminpw
paths:
  cam1:
    users:
      - user: viewer
        password: viewerpw
        actions: [read]
  cam2:
  lobby:
    users:
      - user: any
        actions: [read]
`

test('named users: top-level everywhere, path users on their path; a path without users is not open; any opens only what it names', async () => {
  const { cs, errors } = await runner(CONFIG)
  assert.deepEqual(errors, [])
  const may = (user: string | undefined, path: string, action: 'read' | 'publish'): boolean => cs.authorize({ user, path, action })
  // No login.
  assert.equal(may(undefined, 'cam1', 'read'), false)
  assert.equal(may(undefined, 'cam2', 'read'), false, 'a path without users of its own is not open to everyone')
  assert.equal(may(undefined, 'lobby', 'read'), true)
  assert.equal(may(undefined, 'lobby', 'publish'), false)
  assert.equal(may(undefined, 'elsewhere', 'publish'), false)
  assert.equal(cs.allowAnonymous({ path: 'lobby', action: 'read' }), true)
  assert.equal(cs.allowAnonymous({ path: 'cam2', action: 'read' }), false)
  // A path user.
  assert.equal(may('viewer', 'cam1', 'read'), true)
  assert.equal(may('viewer', 'cam1', 'publish'), false)
  assert.equal(may('viewer', 'cam2', 'read'), false)
  assert.equal(may('viewer', 'lobby', 'read'), true)
  // A top-level user.
  for (const path of ['cam1', 'cam2', 'lobby', 'new']) for (const action of ['read', 'publish'] as const) assert.equal(may('admin', path, action), true, `admin ${action} ${path}`)
  assert.equal(ConfigServer.needsAuth(parseServeConfig(CONFIG, 'rtspkit.yml')), true)
  assert.deepEqual(
    cs.credentialsOf(parseServeConfig(CONFIG, 'rtspkit.yml')).map((c) => c.username).filter((u) => !u.startsWith('rtspkit-recorder-')),
    ['admin', 'viewer'],
  )
})

test('no users at all: no logins, every path open; top-level any: every path, for its actions only', async () => {
  const open = await runner('paths:\n  cam1:\n  cam2:\n')
  assert.equal(open.cs.authorize({ user: undefined, path: 'cam1', action: 'publish' }), true)
  assert.equal(ConfigServer.needsAuth(parseServeConfig('paths:\n  cam1:\n', 'c.yml')), false)
  const anyRead = await runner('users:\n  - user: any\n    actions: [read]\npaths:\n  cam1:\n')
  assert.equal(anyRead.cs.authorize({ user: undefined, path: 'cam1', action: 'read' }), true)
  assert.equal(anyRead.cs.authorize({ user: undefined, path: 'other', action: 'read' }), true)
  assert.equal(anyRead.cs.authorize({ user: undefined, path: 'cam1', action: 'publish' }), false)
})

test('a path no one may read is reported when the config is applied; any with a password is a mistake', async () => {
  const { errors } = await runner('paths:\n  cam1:\n    users:\n      - user: viewer\n        password: pw\n  cam2:\n  cam3:\n')
  assert.equal(errors.length, 1)
  assert.match(errors[0]!, /^no user may read cam2, cam3: a path without users of its own is open only to top-level users \(add users to it, or "- user: any" to open it to everyone\)$/)
  assert.throws(
    () => parseServeConfig('paths:\n  cam1:\n    users:\n      - user: any\n        password: secret\n', 'rtspkit.yml'),
    (e: unknown) => e instanceof ConfigError && /^rtspkit\.yml:5: paths\.cam1\.users\.0\.password: user any is everyone without a login: give it no password$/.test(e.message),
  )
})
