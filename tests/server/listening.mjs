// A server started in a child process announces itself with a line `listening <port>` on its stdout (the tests'
// grant-server.mjs, the grant bench's server): this waits for that line.

/** Resolves the port a child process reports, or rejects when it exits first. */
export function listeningPort(child) {
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const port = /listening (\d+)/.exec(out);
      if (port) resolve(Number(port[1]));
    });
    child.once('exit', (code) => reject(new Error(`the server process exited with ${code}`)));
  });
}
