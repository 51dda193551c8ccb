import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DESTINATION_STATUSES } from '../../../../events/destination/common.ts';
import { ChannelStateSchema, type ChannelState } from '../../../../events/channel-provisioner/common.ts';
import { AppError, errorRegistry } from '../../../../shared/errors/index.ts';
import { statusForChannelState } from '../app/destination-service.ts';
import { TRANSITIONS, applyCommand, canTransition, isLegalObservedMove, type Command, type CommandOutcome, type DesiredState, type DestinationStatus } from './lifecycle.ts';

const STATUSES = DESTINATION_STATUSES as readonly DestinationStatus[];
const DESIRED: readonly DesiredState[] = ['running', 'stopped'];
const COMMANDS: readonly Command[] = ['start', 'stop', 'delete', 'update'];

/** The legal moves of `status`, as the module's documentation lists them. */
const DOCUMENTED_MOVES: Record<DestinationStatus, DestinationStatus[]> = {
  creating: ['idle', 'error', 'deleting'],
  idle: ['starting', 'deleting', 'error'],
  starting: ['running', 'stopping', 'idle', 'error', 'deleting'],
  running: ['stopping', 'idle', 'error', 'deleting'],
  stopping: ['idle', 'starting', 'error', 'deleting'],
  error: ['creating', 'idle', 'starting', 'running', 'stopping', 'deleting'],
  deleting: ['error'],
};

describe('transition table', () => {
  test('has a row for every status, naming only known statuses', () => {
    assert.deepEqual(Object.keys(TRANSITIONS).sort(), [...STATUSES].sort());
    for (const [from, tos] of Object.entries(TRANSITIONS)) {
      for (const to of tos) assert.ok(STATUSES.includes(to), `${from} -> ${to}: unknown status`);
      assert.equal(new Set(tos).size, tos.length, `${from} lists a target twice`);
      assert.ok(!tos.includes(from as DestinationStatus), `${from} lists itself`);
    }
  });

  test('is exactly the documented table', () => {
    for (const from of STATUSES) assert.deepEqual([...TRANSITIONS[from]].sort(), [...DOCUMENTED_MOVES[from]].sort(), `row ${from}`);
  });

  /** Observed moves the table does not have: through the steps of a start the destination did not hear of. */
  const OBSERVED_SKIPS: Partial<Record<DestinationStatus, DestinationStatus[]>> = {
    creating: ['starting', 'running', 'stopping'],
    idle: ['running', 'stopping'],
    running: ['starting'],
    stopping: ['running'],
  };

  for (const from of STATUSES) {
    test(`canTransition from ${from} to every status`, () => {
      for (const to of STATUSES) {
        const expected = from === to || DOCUMENTED_MOVES[from].includes(to);
        assert.equal(canTransition(from, to), expected, `${from} -> ${to}`);
        assert.equal(isLegalObservedMove(from, to), expected || (OBSERVED_SKIPS[from] ?? []).includes(to), `observed ${from} -> ${to}`);
      }
    });
  }

  test('every status can be deleted, and deleting can only fail', () => {
    for (const from of STATUSES) if (from !== 'deleting') assert.ok(canTransition(from, 'deleting'), from);
    for (const to of STATUSES) if (to !== 'deleting') assert.equal(canTransition('deleting', to), to === 'error', `deleting -> ${to}`);
  });

  test('a channel cannot be running without having started (idle/creating never jump to running)', () => {
    assert.equal(canTransition('idle', 'running'), false);
    assert.equal(canTransition('creating', 'running'), false);
    assert.equal(canTransition('creating', 'starting'), false);
  });

  test('an observation may skip the steps of a start it did not hear of (ADR 0016), and nothing else', () => {
    assert.ok(isLegalObservedMove('creating', 'running'), 'created, idle, started, running: the destination heard only RUNNING');
    assert.ok(isLegalObservedMove('idle', 'running'));
    assert.ok(isLegalObservedMove('stopping', 'running'));
    assert.ok(isLegalObservedMove('running', 'starting'), 'stopped, idle and started again (an update): the destination heard only STARTING');
    assert.ok(!isLegalObservedMove('running', 'creating'));
    assert.ok(!isLegalObservedMove('deleting', 'running'), 'nothing moves a deleting destination but its teardown');
    assert.ok(!isLegalObservedMove('idle', 'creating'));
  });
});

type Expected = (Omit<CommandOutcome, 'changed'> & { changed: boolean | ((desired: DesiredState) => boolean) }) | 'illegal';

/** What each command does from each status; `changed` may depend on the current wanted state. */
const COMMAND_TABLE: Record<Command, Record<DestinationStatus, (desired: DesiredState) => Expected>> = {
  start: {
    creating: (d) => ({ desired: 'running', status: 'creating', changed: d !== 'running' }),
    idle: () => ({ desired: 'running', status: 'starting', changed: true }),
    starting: (d) => ({ desired: 'running', status: 'starting', changed: d !== 'running' }),
    running: (d) => ({ desired: 'running', status: 'running', changed: d !== 'running' }),
    stopping: (d) => ({ desired: 'running', status: 'stopping', changed: d !== 'running' }),
    error: () => ({ desired: 'running', status: 'starting', changed: true }),
    deleting: () => 'illegal',
  },
  stop: {
    creating: (d) => ({ desired: 'stopped', status: 'creating', changed: d !== 'stopped' }),
    idle: (d) => ({ desired: 'stopped', status: 'idle', changed: d !== 'stopped' }),
    starting: () => ({ desired: 'stopped', status: 'stopping', changed: true }),
    running: () => ({ desired: 'stopped', status: 'stopping', changed: true }),
    stopping: (d) => ({ desired: 'stopped', status: 'stopping', changed: d !== 'stopped' }),
    error: () => ({ desired: 'stopped', status: 'stopping', changed: true }),
    deleting: () => 'illegal',
  },
  delete: {
    creating: () => ({ desired: 'stopped', status: 'deleting', changed: true }),
    idle: () => ({ desired: 'stopped', status: 'deleting', changed: true }),
    starting: () => ({ desired: 'stopped', status: 'deleting', changed: true }),
    running: () => ({ desired: 'stopped', status: 'deleting', changed: true }),
    stopping: () => ({ desired: 'stopped', status: 'deleting', changed: true }),
    error: () => ({ desired: 'stopped', status: 'deleting', changed: true }),
    deleting: () => 'illegal',
  },
  update: {
    creating: (d) => ({ desired: d, status: 'creating', changed: true }),
    idle: (d) => ({ desired: d, status: 'idle', changed: true }),
    starting: (d) => ({ desired: d, status: 'starting', changed: true }),
    running: (d) => ({ desired: d, status: 'running', changed: true }),
    stopping: (d) => ({ desired: d, status: 'stopping', changed: true }),
    error: (d) => ({ desired: d, status: 'error', changed: true }),
    deleting: () => 'illegal',
  },
};

function assertIllegal(fn: () => unknown, status: DestinationStatus, command: Command): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof AppError, 'an AppError');
    assert.equal(err.code, 'ILLEGAL_TRANSITION');
    assert.equal(err.status, 409);
    assert.equal(errorRegistry.ILLEGAL_TRANSITION.status, 409);
    assert.equal(err.extra.currentStatus, status);
    assert.equal(err.extra.command, command);
    assert.match(err.message, new RegExp(`${command}.*${status}`));
    return true;
  });
}

describe('applyCommand', () => {
  for (const command of COMMANDS) {
    for (const status of STATUSES) {
      for (const desired of DESIRED) {
        const expected = COMMAND_TABLE[command][status](desired);
        test(`${command} while ${status} (desired ${desired}) -> ${expected === 'illegal' ? '409 ILLEGAL_TRANSITION' : `${expected.status}/${expected.desired}`}`, () => {
          if (expected === 'illegal') return assertIllegal(() => applyCommand(command, status, desired), status, command);
          const out = applyCommand(command, status, desired);
          const changed = typeof expected.changed === 'function' ? expected.changed(desired) : expected.changed;
          assert.deepEqual(out, { desired: expected.desired, status: expected.status, changed });
          // Whatever a command does to the status must be a legal move of the table.
          assert.ok(canTransition(status, out.status), `${status} -> ${out.status} is not in the table`);
        });
      }
    }
  }

  test('start while deleting is 409 with the current status', () => {
    assertIllegal(() => applyCommand('start', 'deleting', 'stopped'), 'deleting', 'start');
  });

  test('delete twice: the second delete is 409', () => {
    const first = applyCommand('delete', 'running', 'running');
    assert.equal(first.status, 'deleting');
    assertIllegal(() => applyCommand('delete', first.status, first.desired), 'deleting', 'delete');
  });

  test('start while running (already wanted running) is a no-op', () => {
    assert.deepEqual(applyCommand('start', 'running', 'running'), { desired: 'running', status: 'running', changed: false });
    assert.deepEqual(applyCommand('start', 'starting', 'running'), { desired: 'running', status: 'starting', changed: false });
  });

  test('stop while creating only changes the wanted state', () => {
    assert.deepEqual(applyCommand('stop', 'creating', 'running'), { desired: 'stopped', status: 'creating', changed: true });
    assert.deepEqual(applyCommand('stop', 'creating', 'stopped'), { desired: 'stopped', status: 'creating', changed: false });
  });

  test('start while creating or stopping only changes the wanted state (the provisioner starts it once idle)', () => {
    assert.deepEqual(applyCommand('start', 'creating', 'stopped'), { desired: 'running', status: 'creating', changed: true });
    assert.deepEqual(applyCommand('start', 'stopping', 'stopped'), { desired: 'running', status: 'stopping', changed: true });
  });
});

describe('statusForChannelState', () => {
  const STATES = ChannelStateSchema.options as readonly ChannelState[];
  const err = { code: 'PUSH_FAILED', message: 'The platform refused the stream.', hint: 'Check the stream key.' };

  /**
   * Expected status for (engine state, current status) with no error; '-' = nothing new.
   * Columns: creating, idle, starting, running, stopping, error, deleting.
   */
  const TABLE: Record<ChannelState, string> = {
    CREATING: '-        -        -        -        -        creating -',
    IDLE: 'idle     -        idle     idle     idle     idle     -',
    STARTING: 'starting starting starting starting starting starting -',
    RUNNING: 'running  running  running  running  running  running  -',
    RECOVERING: 'error    error    error    error    error    error    -',
    CREATE_FAILED: 'error    error    error    error    error    error    -',
    UPDATE_FAILED: 'error    error    error    error    error    error    -',
    STOPPING: 'stopping stopping stopping stopping stopping stopping -',
    UPDATING: '-        -        -        -        -        -        -',
    DELETING: '-        -        -        -        -        -        -',
    DELETED: '-        -        -        -        -        -        -',
  };
  const COLUMNS: DestinationStatus[] = ['creating', 'idle', 'starting', 'running', 'stopping', 'error', 'deleting'];
  const expected = (state: ChannelState, current: DestinationStatus): DestinationStatus | null => {
    const cell = TABLE[state].split(/\s+/)[COLUMNS.indexOf(current)];
    return cell === '-' ? null : (cell as DestinationStatus);
  };

  for (const state of STATES) {
    test(`${state} from every status`, () => {
      for (const current of STATUSES) assert.equal(statusForChannelState(state, current, null), expected(state, current), `${state} while ${current}`);
    });
  }

  test('RUNNING or STARTING with an error (push failing) is error, unless deleting', () => {
    for (const state of ['RUNNING', 'STARTING'] as const) for (const current of STATUSES) assert.equal(statusForChannelState(state, current, err), current === 'deleting' ? null : 'error', `${state} while ${current}`);
  });

  test('while deleting, nothing the channel reports moves the status (teardown events do)', () => {
    for (const state of STATES) {
      assert.equal(statusForChannelState(state, 'deleting', null), null, state);
      assert.equal(statusForChannelState(state, 'deleting', err), null, state);
    }
  });

  test('the moves the mapping proposes in the normal life of a channel are legal', () => {
    const path: [ChannelState, DestinationStatus, DestinationStatus][] = [
      ['IDLE', 'creating', 'idle'],
      ['STARTING', 'idle', 'starting'],
      ['RUNNING', 'starting', 'running'],
      ['STOPPING', 'running', 'stopping'],
      ['IDLE', 'stopping', 'idle'],
      ['IDLE', 'running', 'idle'],
      ['CREATE_FAILED', 'creating', 'error'],
      ['RECOVERING', 'running', 'error'],
      ['RUNNING', 'error', 'running'],
      ['CREATING', 'error', 'creating'],
    ];
    for (const [state, from, to] of path) {
      assert.equal(statusForChannelState(state, from, null), to, `${state} while ${from}`);
      assert.ok(canTransition(from, to), `${from} -> ${to}`);
    }
  });
});

describe('observed failures carry a typed error', () => {
  test('a failure state without an engine error still gets a lastError', async () => {
    const { DestinationService } = await import('../app/destination-service.ts');
    const saved: { status: string; lastError: unknown }[] = [];
    const current = {
      destinationId: '00000000-0000-4000-8000-000000000001',
      name: 'd',
      platform: 'youtube',
      rtmpUrl: 'rtmp://h/a',
      streamKeyCiphertext: 'x',
      streamKeyLast4: null,
      preset: 'passthrough',
      status: 'starting',
      desired: 'running',
      mediaLiveChannelId: 'c1',
      mediaConnectOutputArn: 'o1',
      lastError: null,
      lastObservedAt: null,
      version: 3,
      createdAt: 't',
      lastModified: 't',
    };
    const svc = new DestinationService({
      destinations: { get: async () => current, save: async (next: { status: string; lastError: unknown }) => void saved.push(next) } as never,
      presets: {} as never,
      platforms: {} as never,
      system: {} as never,
      cipher: {} as never,
      logger: { info() {}, warn() {}, error() {} } as never,
    });
    await svc.observeChannelState({ destinationId: current.destinationId, channelId: 'c1', state: 'CREATE_FAILED', error: null, observedAt: new Date().toISOString() }, 'corr');
    assert.equal(saved[0]?.status, 'error');
    assert.deepEqual((saved[0]?.lastError as { code: string } | null | undefined)?.code, 'CHANNEL_CREATE_FAILED');
  });
});
