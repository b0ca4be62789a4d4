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
client[method](JSON.parse(body), { deadline }, (err, resp) => {
	if (err) {
		console.log(`ERR ${err.code} ${err.details}`);
		process.exit(1);
	}
	console.log(JSON.stringify(resp));
	process.exit(0);
});
