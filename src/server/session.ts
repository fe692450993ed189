import { Owner } from '../locks/lock-table.js';

/** One client connection's protocol state: its lock holdings (as Owner), address and name. */
export class Session extends Owner {
  /** Registered name (`iam`), or null for none. */
  name: string | null = null;
  /** Set by `hello`: multi-line replies end with a terminator and unknown commands are answered. */
  ext = false;
  /** Set by a waiting command that returned no reply yet: how long it may wait for its lock (ms, Infinity). */
  waitLimit = 0;
  /** False until `auth` succeeds, when the server requires it. */
  authed = true;
  /** Set with a null reply: send this after refusalDelay ms, then close the connection. */
  refusal: string | null = null;
  refusalDelay = 0;
  /** A holder reserved after a planned restart (see handover.ts): SHA-256 (hex) of the key that reclaims its locks. */
  reclaimDigest: string | null = null;
  /** When it connected (ms since the epoch). */
  readonly since = Date.now();

  constructor(
    /** IP:PORT, [v6]:PORT or unix:N; also the default name. */
    readonly address: string,
    /** The connection, which sends the deferred reply of a waiting command. */
    private readonly waiting: { answerWait(reply: string): void },
  ) {
    super();
  }

  /** Sends the deferred reply of a waiting command and lets the connection go on. */
  answerWait(reply: string): void {
    this.waiting.answerWait(reply);
  }

  /** What dumps show for this connection. */
  get label(): string {
    return this.name ?? this.address;
  }
}
