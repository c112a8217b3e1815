/**
 * Loopback multicast for interop tests (issue 16): datagrams to 224.0.0.0/4 stay on `lo`
 * when the route `224.0.0.0/4 dev lo` exists. The set-up adds it when it is missing and
 * the test runs as root; otherwise the tests skip with the reason.
 */
import { execFileSync, spawn } from 'node:child_process'
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

export interface NamespacedGst {
  /** rtsp://<address>:<port> of the server in the namespace. */
  base: string
  /** Our end of the veth pair: the interface the groups arrive on. */
  localAddress: string
  stderr(): string
  stop(): Promise<void>
}

/**
 * GStreamer's RTSP server with an address pool (`gst-rtsp-server.py --multicast`), in a
 * network namespace of its own joined to this one by a veth pair. GStreamer binds its
 * groups' ports without SO_REUSEADDR (rtsp-stream.c: g_socket_bind(..., FALSE)), so no
 * reader on its host can bind them; from its own namespace the groups reach our end of the
 * pair, where a reader joins them. Needs root and iproute2; undefined + a reason otherwise.
 */
export async function startNamespacedGst(script: string, pool: string): Promise<NamespacedGst | string> {
  if (process.getuid?.() !== 0) return 'GStreamer multicast test needs root (a network namespace for the server)'
  const id = `${process.pid % 10000}${randomInt(0, 100)}`
  const ns = `rtspkit-mc-${id}`
  const host = `rkm${id}a`
  const peer = `rkm${id}b`
  const net = `10.${randomInt(200, 250)}.${randomInt(0, 255)}`
  const ip = (...args: string[]): void => {
    execFileSync('ip', args, { stdio: 'pipe' })
  }
  const cleanup = (): void => {
    try {
      ip('netns', 'del', ns) // takes the veth pair with it
    } catch {
      // never made
    }
  }
  try {
    ip('netns', 'add', ns)
    ip('link', 'add', host, 'type', 'veth', 'peer', 'name', peer)
    ip('link', 'set', peer, 'netns', ns)
    ip('addr', 'add', `${net}.1/30`, 'dev', host)
    ip('link', 'set', host, 'up')
    ip('netns', 'exec', ns, 'ip', 'addr', 'add', `${net}.2/30`, 'dev', peer)
    ip('netns', 'exec', ns, 'ip', 'link', 'set', peer, 'up')
    ip('netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up')
    ip('netns', 'exec', ns, 'ip', 'route', 'add', '224.0.0.0/4', 'dev', peer)
  } catch (err) {
    cleanup()
    return `cannot make a network namespace for GStreamer: ${(err as Error).message.split('\n')[0]}`
  }
  const child = spawn('ip', ['netns', 'exec', ns, '/usr/bin/python3', script, '--address', `${net}.2`, '--multicast', pool, '--multicast-iface', peer], {
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  })
  child.stdin.on('error', () => {})
  let stderr = ''
  child.stderr.setEncoding('utf8')
  child.stderr.on('data', (s: string) => (stderr = (stderr + s).slice(-16_384)))
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      try {
        process.kill(-child.pid, 'SIGTERM')
      } catch {
        // gone
      }
      const timer = setTimeout(() => {
        try {
          process.kill(-child.pid!, 'SIGKILL')
        } catch {
          // gone
        }
      }, 5000)
      await exited
      clearTimeout(timer)
    }
    cleanup()
  }
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let out = ''
      const timer = setTimeout(() => reject(new Error(`gst-rtsp-server.py printed no PORT within 20 s; stderr:\n${stderr}`)), 20_000)
      child.stdout.setEncoding('utf8')
      child.stdout.on('data', (s: string) => {
        out += s
        const m = /^PORT (\d+)$/m.exec(out)
        if (m) {
          clearTimeout(timer)
          resolve(Number(m[1]))
        }
      })
      child.once('exit', (code) => {
        clearTimeout(timer)
        reject(new Error(`gst-rtsp-server.py exited (${code}) before listening; stderr:\n${stderr}`))
      })
    })
    return { base: `rtsp://${net}.2:${port}`, localAddress: `${net}.1`, stderr: () => stderr, stop }
  } catch (err) {
    await stop()
    throw err
  }
}
