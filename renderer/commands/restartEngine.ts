import { restartEngine as restart } from '../session/runs';
import { register } from './register';

export const restartEngine = register({
  id: 'engine.restart',
  label: 'Restart engine',
  enabled: (s) => s.engine?.state !== 'restarting' && s.engine?.state !== 'starting',
  async perform() {
    await restart();
  },
});
