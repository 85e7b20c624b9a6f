/**
 * Every user command, registered on import. The toolbar, the cell toolbars, the keyboard and the desktop
 * menu (onMenuCommand { command: id }) all go through runCommand(id).
 */
import './newExperiment';
import './openExperiment';
import './save';
import './saveAs';
import './reopenExperiment';
import './overwrite';
import './addCell';
import './moveCell';
import './deleteCell';
import './collapseCell';
import './runCell';
import './stopRun';
import './undoRedo';
import './restartEngine';

export { allCommands, getCommand } from './register';
export { runCommand } from './run';
export { installKeyboard, formatKeybinding } from './keyboard';
