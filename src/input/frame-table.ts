/**
 * Where each frame of one pass lies in memory: numbers in packed arrays (about 40 bytes a
 * frame and 24 a NAL unit), so a long file costs no object per frame. NAL units of MP4/MOV
 * samples are views of the file; those the demuxer copied (MPEG-TS reassembles PES packets)
 * are copied once more into side chunks, at most the size of the file in all.
 */
import type { SourceFrame } from './types.js'

export class FrameTable {
  complete = false
  /** chunks[0] is the file. */
  private readonly chunks: ArrayBufferLike[]
  private side: Buffer | undefined
  private sideUsed = 0
  private readonly track: number[] = []
  private readonly pts: number[] = []
  private readonly dts: number[] = []
  private readonly key: number[] = []
  /** Frame i's NAL units are nalChunk/nalOffset/nalLength[nalStart[i] .. nalStart[i + 1]). */
  private readonly nalStart: number[] = []
  private readonly nalChunk: number[] = []
  private readonly nalOffset: number[] = []
  private readonly nalLength: number[] = []

  constructor(file: ArrayBufferLike) {
    this.chunks = [file]
  }

  add(f: SourceFrame): void {
    this.nalStart.push(this.nalOffset.length)
    for (const d of f.data) {
      if (d.buffer === this.chunks[0]) {
        this.nalChunk.push(0)
        this.nalOffset.push(d.byteOffset)
      } else {
        if (this.side === undefined || this.sideUsed + d.length > this.side.length) {
          this.side = Buffer.allocUnsafeSlow(Math.max(SIDE_CHUNK_BYTES, d.length))
          this.sideUsed = 0
          this.chunks.push(this.side.buffer)
        }
        d.copy(this.side, this.sideUsed)
        this.nalChunk.push(this.chunks.length - 1)
        this.nalOffset.push(this.side.byteOffset + this.sideUsed)
        this.sideUsed += d.length
      }
      this.nalLength.push(d.length)
    }
    this.track.push(f.trackIndex)
    this.pts.push(f.pts)
    this.dts.push(f.dts)
    this.key.push(f.keyFrame ? 1 : 0)
  }

  /**
   * A frame whose NAL units lie in the file (input/mp4-index.ts), without a Buffer per unit:
   * beginFrame(), addFileNal() for each unit (its offset in the file's ArrayBuffer), then
   * endFrame(). The same entries as add() with views of the file.
   */
  beginFrame(): void {
    this.nalStart.push(this.nalOffset.length)
  }

  addFileNal(offset: number, length: number): void {
    this.nalChunk.push(0)
    this.nalOffset.push(offset)
    this.nalLength.push(length)
  }

  endFrame(trackIndex: number, pts: number, dts: number, keyFrame: boolean): void {
    this.track.push(trackIndex)
    this.pts.push(pts)
    this.dts.push(dts)
    this.key.push(keyFrame ? 1 : 0)
  }

  finish(): void {
    this.nalStart.push(this.nalOffset.length)
    this.complete = this.track.length > 0
    this.side = undefined
  }

  *replay(): Generator<SourceFrame> {
    const n = this.track.length
    for (let i = 0; i < n; i++) {
      const from = this.nalStart[i]!
      const to = this.nalStart[i + 1]!
      const data: Buffer[] = new Array(to - from)
      for (let j = from; j < to; j++) data[j - from] = Buffer.from(this.chunks[this.nalChunk[j]!]!, this.nalOffset[j]!, this.nalLength[j]!)
      yield { trackIndex: this.track[i]!, pts: this.pts[i]!, dts: this.dts[i]!, keyFrame: this.key[i] === 1, data }
    }
  }

  async *replayAsync(): AsyncGenerator<SourceFrame> {
    yield* this.replay()
  }
}

const SIDE_CHUNK_BYTES = 1024 * 1024

