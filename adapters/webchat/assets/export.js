// Downloading one's data: the "download my data" button asks for an export frame, and the
// export the server sends back is saved as a JSON file.

import { $ } from './dom.js';
import { sendFrame } from './socket.js';

// Saves the data of an `export` frame as sprechstunde-meine-daten.json.
export function download(data) {
  const json = JSON.stringify(data, null, 2);
  const url = URL.createObjectURL(new Blob([json], { type: 'application/json' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = 'sprechstunde-meine-daten.json';
  document.body.appendChild(a);
  a.click();
  a.remove();
  window.setTimeout(() => URL.revokeObjectURL(url), 10000);
}

export function bindExport() {
  $('quick-export').addEventListener('click', () => sendFrame({ type: 'export' }));
}
