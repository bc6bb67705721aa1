// Preloaded (node --import) into servers that listen on every interface, such as
// @modelcontextprotocol/server-everything: every TCP listen goes to 127.0.0.1 instead, and the
// first listening port is written, alone on a line, to the file descriptor named by
// PA_MCP_PORT_FD (tests/mcp-server/start points it at its stdout).
import net from 'node:net';
import fs from 'node:fs';

const listen = net.Server.prototype.listen;
let reported = false;
net.Server.prototype.listen = function (...args) {
    const first = args[0];
    if (first !== null && typeof first === 'object' && !('_handle' in first) && !('fd' in first)) {
        if (first.path === undefined) args[0] = { ...first, host: '127.0.0.1' };
    } else if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
        const rest = args.slice(1);
        if (typeof rest[0] === 'string') rest.shift(); // the host it asked for
        args = [Number(first), '127.0.0.1', ...rest];
    } else if (first === undefined || typeof first === 'function') {
        args = [0, '127.0.0.1', ...args];
    }
    this.once('listening', () => {
        const addr = this.address();
        if (reported || !addr || typeof addr !== 'object') return;
        reported = true;
        const fd = Number(process.env.PA_MCP_PORT_FD);
        if (Number.isInteger(fd) && fd > 0) fs.writeSync(fd, `${addr.port}\n`);
    });
    return listen.apply(this, args);
};
