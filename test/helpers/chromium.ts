/**
 * Debian's Chromium driven by playwright-core, launched the same way by every browser test and
 * by bench/latency-harness.ts: headless, no sandbox (root in a container), autoplay without a
 * gesture (the players start muted video on their own), and none of the background services
 * that would fetch from the network or compete for the CPU.
 */
import { chromium, type Browser } from 'playwright-core'

/** Debian's package (`apt-get install chromium`); playwright-core ships no browser. */
export const CHROMIUM_PATH = '/usr/bin/chromium'

export const CHROMIUM_ARGS: readonly string[] = [
  '--no-sandbox',
  '--autoplay-policy=no-user-gesture-required',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-gpu',
]

/** A headless Chromium with CHROMIUM_ARGS; the caller closes it. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS] })
}
