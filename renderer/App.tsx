import { useEffect } from 'react';
import { Banners } from './chrome/Banners';
import { OpenDialog } from './chrome/OpenDialog';
import { Toolbar } from './chrome/Toolbar';
import { installKeyboard, runCommand } from './commands';
import { Notebook } from './notebook/Notebook';
import { startAutosave } from './session/documents';
import { wireEvents } from './session/runs';
import { Sidebar } from './sidebar/Sidebar';

export function App() {
  useEffect(() => {
    const offs = [
      installKeyboard(),
      startAutosave(),
      // the desktop menu names commands by their registry id
      wireEvents((command, args) => void runCommand(command, { args })),
    ];
    return () => offs.forEach((off) => off());
  }, []);
  return (
    <div className="app">
      <Toolbar />
      <div className="app-body">
        <Sidebar />
        <main className="app-main">
          <Banners />
          <Notebook />
        </main>
      </div>
      <OpenDialog />
    </div>
  );
}
