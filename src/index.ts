export { RtspClient } from './client/client.js'
export type { ClientOptions, ClientPullOptions, SuperviseOptions, TransportChoice, TransportDecision } from './client/client.js'
export type { TlsOptions } from './client/connection.js'
export { PullSession } from './client/pull-session.js'
export { PullSupervisor } from './client/supervisor.js'
export type { OutageEvent, ReconnectOptions, ReconnectEvent, SupervisorEvents, SupervisorState, SupervisorStats } from './client/supervisor.js'
export type { ClockSource, PlayRange, PullOptions, PullState, PullSessionEvents, TransportProtocol } from './client/pull-session.js'
export type { Frame, ReplayInfo, Track, TrackStats, TrackTransport } from './client/track.js'
export type { BackChannelInfo, BackChannelStats, TalkFormat, TalkOptions, TalkResult } from './client/backchannel.js'
export type { OnvifReplayOptions } from './client/options.js'
export type { ReceivedPacket } from './client/packet-queue.js'
export { PushSession } from './client/push-session.js'
export type { PushOptions, PushState, PushSessionEvents, PushTrack, PushTrackInit, PushFrame, PushStats } from './client/push-session.js'
export { openFileSource, paceFrames } from './input/file-source.js'
export type { FileSource, FileSourceOptions, SourceTrack, SourceFrame, PaceOptions, PaceSource, PacedFrame } from './input/file-source.js'
// createRecorder, formatFromPath and the recorder types: the output folder's barrel says which.
export * from './output/index.js'
export { createSegmentedRecorder, SegmentedRecorder, RecordingWriteError } from './record/index.js'
export type { GapInfo, RecordFs, SegmentInfo, SegmentedRecorderEvents, SegmentedRecorderOptions, WallClockSource } from './record/index.js'
export type { AccessUnit, CodecDetails, CodecName } from './formats/types.js'
export type { RtpPacket } from './rtp/packet-types.js'
export type { SessionDescription, MediaDescription, RtpMap } from './sdp/types.js'
export * from './errors.js'
export { redactUrl } from './util/url.js'
export type { Credentials } from './util/url.js'
export type { ReaderLimits } from './rtsp/reader.js'
export type { ReorderOptions } from './rtp/reorder-buffer.js'
export { RtspServer, StreamPublisher } from './server/index.js'
export type { AuthorizeContext, RtspServerEvents, RtspServerOptions, ServerSessionInfo, PublishFrame, StreamTrackInfo, ServerCredentials, MulticastOptions } from './server/index.js'
export type { PullSourceOptions } from './server/pull-source.js'
export type { OnDemandOptions } from './server/on-demand.js'
export type { HttpSideOptions } from './http/http-side.js'
export type { SendTrackInit } from './formats/send-track.js'
export { DIAGNOSTICS_CHANNELS } from './diagnostics.js'
export type {
  ClientExchange,
  ClientRequestMessage,
  ClientResponseMessage,
  ClientSessionStateMessage,
  ClientTrackLossMessage,
  ClientTransportChangeMessage,
  DiagnosticHeaders,
  DiagnosticSessionKind,
  DiagnosticWireParts,
  ServerExchange,
  ServerRequestMessage,
  ServerResponseMessage,
  ServerSessionMessage,
} from './diagnostics.js'
