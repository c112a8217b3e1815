/**
 * Loopback multicast for interop tests (issue 16): datagrams to 224.0.0.0/4 stay on `lo`
 * when the route `224.0.0.0/4 dev lo` exists. The set-up adds it when it is missing and
 * the test runs as root; otherwise the tests skip with the reason.
 */
import { execFileSync } from 'node:child_process'
import { randomInt } from 'node:crypto'

/** undefined when loopback multicast is ready, else why the multicast tests skip. */
export function ensureLoopbackMulticast(): string | undefined {
  let routes: string
  try {
    routes = execFileSync('ip', ['-4', 'route', 'show', '224.0.0.0/4'], { encoding: 'utf8' })
  } catch {
    return 'multicast tests need the `ip` command (iproute2) to check the route 224.0.0.0/4 dev lo'
  }
  if (/\bdev lo\b/.test(routes)) return undefined
  if (process.getuid?.() !== 0) return 'multicast tests need the route 224.0.0.0/4 dev lo; run `ip route add 224.0.0.0/4 dev lo` as root (or run the tests as root)'
  try {
    execFileSync('ip', ['route', 'add', '224.0.0.0/4', 'dev', 'lo'], { stdio: 'pipe' })
  } catch (err) {
    // Another test file may have added it in the meantime.
    const now = execFileSync('ip', ['-4', 'route', 'show', '224.0.0.0/4'], { encoding: 'utf8' })
    if (!/\bdev lo\b/.test(now)) return `cannot add the route 224.0.0.0/4 dev lo: ${(err as Error).message.split('\n')[0]}`
  }
  return undefined
}

/** A /28 of 239.255.0.0/16 (organization-local scope, RFC 2365) and an even first port, apart from other runs. */
export function testGroupRange(): { range: string; firstAddress: string; port: number } {
  const third = randomInt(1, 255)
  const fourth = randomInt(0, 15) * 16
  return { range: `239.255.${third}.${fourth}/28`, firstAddress: `239.255.${third}.${fourth + 1}`, port: 42000 + randomInt(0, 1000) * 2 }
}
