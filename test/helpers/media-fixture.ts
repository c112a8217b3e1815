/**
 * A short H.264 + AAC clip made by ffmpeg and cut into access units the way an RTSP session
 * hands them to a recorder: H.264 as the NAL units of one picture (no start codes), AAC as
 * one raw frame, each with a pts in seconds from a common origin.
 *
 * ffmpeg writes raw Annex B (-f h264) and ADTS (-f adts), so nothing here depends on the
 * muxer under test. The x264 stream has SPS/PPS in-band before the first IDR only; the
 * returned track details carry them too (as an SDP's sprop-parameter-sets would).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildAudioSpecificConfig, AAC_SAMPLE_RATES } from '../../src/codec/aac-config.js'
import { splitAnnexB } from '../../src/codec/h264-nal.js'
import { parseH264Sps } from '../../src/codec/h264-sps.js'
import type { RecorderFrame, RecorderTrack } from '../../src/output/index.js'
import { runProcess } from './cli.js'
import { groupAccessUnits } from './h264-access-units.js'

export interface FixtureOptions {
  /** Clip length in seconds; default 3. */
  seconds?: number
  /** Frames per second; default 30. */
  fps?: number
  /** Key frame interval in frames; default 30. */
  gop?: number
  /** Include an AAC track; default true. */
  audio?: boolean
  /** Picture size; default '320x240'. */
  size?: string
  /** x264 bitrate, e.g. '4M'; default: x264's CRF 23. */
  videoBitrate?: string
}

export interface FixtureClip {
  /** [video] or [video, audio]. */
  tracks: RecorderTrack[]
  /** Every access unit of every track, ordered by pts (video first on ties). */
  frames: RecorderFrame[]
  videoFrames: RecorderFrame[]
  audioFrames: RecorderFrame[]
  sps: Buffer
  pps: Buffer
  fps: number
  /** Samples per AAC frame / sample rate. */
  audioFrameDuration: number
}

/** Make the clip (ffmpeg, ~1 s) and demux it in memory; the temporary files are removed. */
export async function makeFixtureClip(opts: FixtureOptions = {}): Promise<FixtureClip> {
  const seconds = opts.seconds ?? 3
  const fps = opts.fps ?? 30
  const gop = opts.gop ?? 30
  const withAudio = opts.audio ?? true
  const dir = await mkdtemp(join(tmpdir(), 'rtspkit-fixture-'))
  try {
    const videoPath = join(dir, 'clip.h264')
    const audioPath = join(dir, 'clip.aac')
    const args = ['-nostdin', '-v', 'error', '-f', 'lavfi', '-i', `testsrc2=size=${opts.size ?? '320x240'}:rate=${fps}`]
    if (withAudio) args.push('-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000')
    args.push('-map', '0:v', '-t', String(seconds), '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-g', String(gop), '-bf', '0')
    if (opts.videoBitrate) args.push('-b:v', opts.videoBitrate)
    args.push('-preset', 'veryfast', '-f', 'h264', videoPath)
    if (withAudio) args.push('-map', '1:a', '-t', String(seconds), '-c:a', 'aac', '-b:a', '96k', '-f', 'adts', audioPath)
    const r = await runProcess('ffmpeg', args, { timeoutMs: 60_000 })
    if (r.code !== 0) throw new Error(`ffmpeg could not make the fixture clip: ${r.stderr}`)

    const video = splitAccessUnits(await readFile(videoPath))
    const first = video[0]
    const sps = first?.find((n) => (n[0]! & 0x1f) === 7)
    const pps = first?.find((n) => (n[0]! & 0x1f) === 8)
    if (!sps || !pps) throw new Error('fixture: no SPS/PPS before the first picture')
    const info = parseH264Sps(sps)
    const tracks: RecorderTrack[] = [
      {
        type: 'video',
        codec: 'H264',
        clockRate: 90000,
        details: { sps, pps, width: info.width, height: info.height, codecString: info.codecString, profile: info.profile, level: info.level },
      },
    ]
    const videoFrames: RecorderFrame[] = video.map((nalus, i) => ({
      trackIndex: 0,
      pts: i / fps,
      keyFrame: nalus.some((n) => (n[0]! & 0x1f) === 5),
      data: nalus,
    }))

    let audioFrames: RecorderFrame[] = []
    let audioFrameDuration = 0
    if (withAudio) {
      const adts = parseAdts(await readFile(audioPath))
      audioFrameDuration = 1024 / adts.sampleRate
      tracks.push({
        type: 'audio',
        codec: 'AAC',
        clockRate: adts.sampleRate,
        details: {
          sampleRate: adts.sampleRate,
          channels: adts.channels,
          objectType: adts.objectType,
          audioSpecificConfig: buildAudioSpecificConfig(adts),
          codecString: `mp4a.40.${adts.objectType}`,
        },
      })
      audioFrames = adts.frames.map((f, i) => ({ trackIndex: 1, pts: i * audioFrameDuration, keyFrame: true, data: [f] }))
    }
    const frames = mergeByPts(videoFrames, audioFrames)
    return { tracks, frames, videoFrames, audioFrames, sps, pps, fps, audioFrameDuration }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/** An Annex B stream's access units (see groupAccessUnits). */
export function splitAccessUnits(stream: Buffer): Buffer[][] {
  return groupAccessUnits(splitAnnexB(stream))
}

interface AdtsStream {
  objectType: number
  sampleRate: number
  channels: number
  frames: Buffer[]
}

/** Split ADTS (ISO/IEC 13818-7 §6.2) into raw AAC frames. */
export function parseAdts(buf: Buffer): AdtsStream {
  const frames: Buffer[] = []
  let objectType = 2
  let sampleRate = 48000
  let channels = 2
  let o = 0
  while (o + 7 <= buf.length) {
    if (buf[o] !== 0xff || (buf[o + 1]! & 0xf6) !== 0xf0) throw new Error(`fixture: no ADTS sync word at ${o}`)
    const protectionAbsent = buf[o + 1]! & 1
    objectType = (buf[o + 2]! >> 6) + 1
    sampleRate = AAC_SAMPLE_RATES[(buf[o + 2]! >> 2) & 0xf]!
    channels = ((buf[o + 2]! & 1) << 2) | (buf[o + 3]! >> 6)
    const length = ((buf[o + 3]! & 3) << 11) | (buf[o + 4]! << 3) | (buf[o + 5]! >> 5)
    const header = protectionAbsent ? 7 : 9
    frames.push(buf.subarray(o + header, o + length))
    o += length
  }
  return { objectType, sampleRate, channels, frames }
}

/** Merge per-track frame lists by pts, like a session delivering interleaved tracks. */
export function mergeByPts(...lists: RecorderFrame[][]): RecorderFrame[] {
  return lists.flat().sort((a, b) => a.pts - b.pts || a.trackIndex - b.trackIndex)
}

/** A copy of a frame without its SPS/PPS (a camera that sends them only in the SDP). */
export function withoutParameterSets(frame: RecorderFrame): RecorderFrame {
  return { ...frame, data: frame.data.filter((n) => { const t = n[0]! & 0x1f; return t !== 7 && t !== 8 }) }
}
