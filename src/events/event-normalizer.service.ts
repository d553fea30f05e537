import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { ENVELOPE_KEYS, EnvelopeDto } from './dto/envelope.dto';
import { frameProblem, pick } from './dto/validate-frame';
import { derivedEventId, eventIdOfUuid } from './event-id';
import { type Frame, isRecord, readIsoTime } from './frame-fields';
import { FrameKind, frameKeyOf, frameKindOf } from './frame-kind';
import { type NormalizeOutcome, QuarantineReason } from './normalized-event';
import { readBalance } from './readers/balance-frame.reader';
import { readCallFlow, readCallState } from './readers/call-frame.reader';
import { readCallRecord } from './readers/call-record-frame.reader';
import { type FrameReader, isInvalid } from './readers/frame-reading';
import { readPassthrough } from './readers/passthrough-frame.reader';
import { readSms } from './readers/sms-frame.reader';
import { readTnOrder } from './readers/tn-order-frame.reader';
import { readTranscript } from './readers/transcript-frame.reader';
import { firstInvalidUtf8Offset } from './utf8-text';

/**
 * Real frames nest about five levels. The limit keeps recursive work here and JSON.stringify
 * downstream (queue, webhook body) off the edge of the stack for a hostile 1 MiB `[[[[…`.
 */
export const MAX_FRAME_DEPTH = 64;

const MAX_DETAIL_LENGTH = 200;

const READERS: Readonly<Record<Exclude<FrameKind, FrameKind.Auth>, FrameReader>> = {
  [FrameKind.CallState]: readCallState,
  [FrameKind.CallFlow]: readCallFlow,
  [FrameKind.Sms]: readSms,
  [FrameKind.Balance]: readBalance,
  [FrameKind.TnOrder]: readTnOrder,
  [FrameKind.CallRecord]: readCallRecord,
  [FrameKind.Transcript]: readTranscript,
  [FrameKind.Passthrough]: readPassthrough,
};

/** Turns one frame read off the Opentact socket into a published event, a control frame or a quarantine entry. */
@Injectable()
export class EventNormalizer {
  private readonly maxFrameBytes: number;

  constructor(config: AppConfig) {
    this.maxFrameBytes = config.opentact.maxFrameBytes;
  }

  /** Never throws: one bad frame must not take the socket, and every frame after it, down. */
  normalize(data: Buffer | string, isBinary: boolean, receivedAt: Date): NormalizeOutcome {
    try {
      return this.read(data, isBinary, receivedAt);
    } catch (error: unknown) {
      return quarantine(
        QuarantineReason.Invalid,
        `frame could not be normalised: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }

  private read(data: Buffer | string, isBinary: boolean, receivedAt: Date): NormalizeOutcome {
    if (isBinary) {
      return quarantine(QuarantineReason.Binary, 'binary frames are not part of the protocol');
    }
    const text = this.decode(data);
    if (typeof text !== 'string') {
      return text;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error: unknown) {
      return quarantine(
        QuarantineReason.NotJson,
        error instanceof Error ? error.message : 'not valid JSON',
      );
    }
    if (!isRecord(parsed)) {
      return quarantine(QuarantineReason.NotObject, `frame is ${jsonKind(parsed)}, not an object`);
    }
    const frame: Frame = parsed;
    if (typeof frame.type !== 'string' || frame.type.trim() === '') {
      return quarantine(
        QuarantineReason.MissingType,
        frame.type === undefined
          ? 'frame has no type'
          : `type is ${jsonKind(frame.type)}, not a non-empty string`,
      );
    }
    if (nestsDeeperThan(frame, MAX_FRAME_DEPTH)) {
      return quarantine(
        QuarantineReason.Invalid,
        `frame nests deeper than ${MAX_FRAME_DEPTH} levels`,
      );
    }
    const envelopeProblem = frameProblem(EnvelopeDto, pick(frame, ENVELOPE_KEYS) as Frame);
    if (envelopeProblem !== undefined) {
      return quarantine(QuarantineReason.Invalid, envelopeProblem);
    }

    const frameKey = frameKeyOf(frame.type);
    const kind = frameKindOf(frameKey);
    if (kind === FrameKind.Auth) {
      return { kind: 'control', frameType: frameKey, frame };
    }
    const reading = READERS[kind](frame, frameKey);
    if (isInvalid(reading)) {
      return quarantine(QuarantineReason.Invalid, reading.problem);
    }
    const receivedIso = receivedAt.toISOString();
    return {
      kind: 'event',
      event: {
        // The envelope check above admits only a non-empty string uuid, or none.
        id:
          typeof frame.uuid === 'string'
            ? eventIdOfUuid(frame.uuid)
            : derivedEventId(frameKey, frame, reading.identity),
        type: reading.type,
        occurredAt: readIsoTime(frame.created_on) ?? readIsoTime(frame.timestamp) ?? receivedIso,
        receivedAt: receivedIso,
        data: reading.data,
        raw: frame,
      },
    };
  }

  /** Checks the size on the bytes, before any decoding or parsing is spent on an oversized frame. */
  private decode(data: unknown): string | NormalizeOutcome {
    let bytes: number;
    if (typeof data === 'string') {
      bytes = Buffer.byteLength(data, 'utf8');
    } else if (Buffer.isBuffer(data)) {
      bytes = data.length;
    } else {
      return quarantine(QuarantineReason.NotJson, `frame data is ${jsonKind(data)}, not text`);
    }
    if (bytes > this.maxFrameBytes) {
      return quarantine(
        QuarantineReason.TooLarge,
        `frame is ${bytes} bytes, over the ${this.maxFrameBytes} byte limit`,
      );
    }
    if (typeof data === 'string') {
      return data;
    }
    // Buffer#toString would put U+FFFD in place of bad bytes and publish an event whose text no
    // longer says what Opentact sent; the frame is quarantined with its bytes instead.
    const badByteAt = firstInvalidUtf8Offset(data);
    if (badByteAt !== undefined) {
      return quarantine(
        QuarantineReason.InvalidUtf8,
        `text frame is not valid UTF-8 (first bad byte at offset ${badByteAt})`,
      );
    }
    return data.toString('utf8');
  }
}

function quarantine(reason: QuarantineReason, detail: string): NormalizeOutcome {
  return { kind: 'quarantine', reason, detail: detail.slice(0, MAX_DETAIL_LENGTH) };
}

function jsonKind(value: unknown): string {
  if (value === null) {
    return 'null';
  }
  if (Array.isArray(value)) {
    return 'an array';
  }
  return `a ${typeof value}`;
}

/** Iterative, so the check itself cannot overflow the stack it protects. */
function nestsDeeperThan(root: unknown, maxDepth: number): boolean {
  const stack: { value: unknown; depth: number }[] = [{ value: root, depth: 1 }];
  while (stack.length > 0) {
    const { value, depth } = stack.pop()!;
    if (depth > maxDepth) {
      return true;
    }
    const children = Array.isArray(value)
      ? (value as unknown[])
      : isRecord(value)
        ? Object.values(value)
        : [];
    for (const child of children) {
      if (typeof child === 'object' && child !== null) {
        stack.push({ value: child, depth: depth + 1 });
      }
    }
  }
  return false;
}
