import { ConnectionListeners } from './connection-listeners';
import { recordingLogger } from './platform.spec-fixture';

describe('ConnectionListeners', () => {
  it('calls each listener in turn; a throwing one is logged and the next still hears', () => {
    const { logger, lines } = recordingLogger();
    const listeners = new ConnectionListeners(logger);
    const heard: string[] = [];
    listeners.add({
      onAuthFailure: () => {
        throw new Error('boom');
      },
    });
    listeners.add({ onAuthFailure: (reason) => heard.push(reason) });
    listeners.add({}); // no such hook: skipped
    listeners.notify('onAuthFailure', 'refused');
    expect(heard).toEqual(['refused']);
    expect(lines()).toHaveLength(1);
    expect(lines()[0]).toMatchObject({
      msg: 'connection listener threw',
      hook: 'onAuthFailure',
      err: { message: 'boom' },
    });
  });
});
