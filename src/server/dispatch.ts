import { parseRequest } from '../protocol/request.js';
import { END, unknown } from '../protocol/replies.js';
import { authenticate } from './auth.js';
import { COMMAND_INDEX, COMMAND_LIST, type Reply } from './commands.js';
import type { ServerState } from './state.js';
import type { Session } from './session.js';
import { brief } from '../util/brief.js';

/** Runs one request line (input from start to end): its reply ('' for none), or null when it waits. */
export function execute(srv: ServerState, s: Session, input: string, start: number, end: number): Reply {
  const req = parseRequest(input, start, end);
  if (req === null) return '';
  if (!s.authed) return authenticate(srv, s, req.cmd, req.arg);
  const index = COMMAND_INDEX.get(req.cmd);
  // Commands for clients that said hello are, to the others, unknown as before.
  if (index === undefined || (!s.ext && COMMAND_LIST[index].afterHello)) {
    srv.counters.invalidCommands++;
    srv.log?.(`${brief(s.label)} sent an unknown command ${JSON.stringify(brief(req.cmd))}`);
    return s.ext ? unknown(req.cmd) : '';
  }
  srv.commandCounts[index]++;
  const cmd = COMMAND_LIST[index];
  const reply = cmd.run(srv, s, req.arg);
  if (reply !== null && cmd.multiline && s.ext) return reply + END;
  return reply;
}
