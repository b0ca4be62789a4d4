// call.js - one unary call with @grpc/grpc-js + @grpc/proto-loader (NODE_PATH set by
// the test).  Usage: node call.js PROTO TARGET METHOD JSON
// Prints the response as JSON, or "ERR <code> <details>" with exit status 1.
const grpc = require('@grpc/grpc-js');
const loader = require('@grpc/proto-loader');

const [proto, target, method, body] = process.argv.slice(2);
const def = loader.loadSync(proto, { keepCase: true, longs: Number, defaults: true });
const pkg = grpc.loadPackageDefinition(def).bpfd.v1;
const client = new pkg.Bpfd(target, grpc.credentials.createInsecure());
const deadline = new Date(Date.now() + 60000);
// Exit only once the line is written: stdout to a pipe is asynchronous in node, and
// process.exit() right after console.log() cut a List of many programs at 64 KiB.
const print = (line, status) => process.stdout.write(line + '\n', () => process.exit(status));
client[method](JSON.parse(body), { deadline }, (err, resp) => {
	if (err)
		print(`ERR ${err.code} ${err.details}`, 1);
	else
		print(JSON.stringify(resp), 0);
});
