// A toolpool client built only from proto/toolpool/v1/toolpool.proto, with @grpc/grpc-js.
//
//   node client.js TARGET TOKEN PROTO_ROOT
//
// Deploys a bundle, executes by version and by alias, shows a compile error, and reads
// the machine-readable reason of a NOT_FOUND from the trailing metadata. Prints one JSON
// object on stdout for the Python test to check.
'use strict';

const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const [target, token, protoRoot] = process.argv.slice(2);
const definition = protoLoader.loadSync(path.join(protoRoot, 'toolpool/v1/toolpool.proto'), {
  includeDirs: [protoRoot],
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
});
const toolpool = grpc.loadPackageDefinition(definition).toolpool.v1;
const client = new toolpool.ToolPool(target, grpc.credentials.createInsecure());

function call(method, request, timeoutMs = 10000) {
  const metadata = new grpc.Metadata();
  metadata.set('authorization', `Bearer ${token}`);
  const deadline = new Date(Date.now() + timeoutMs);
  return new Promise((resolve) => {
    client[method](request, metadata, { deadline }, (error, response) => {
      if (error) {
        resolve({
          error: {
            code: grpc.status[error.code],
            details: error.details,
            reason: (error.metadata.get('toolpool-reason')[0] || null),
          },
        });
      } else {
        resolve({ response });
      }
    });
  });
}

const TOOLS = [
  'def start_function(conv):',
  '    conv.state.count = (conv.state.count or 0) + 1',
  '    conv.state.big = 9007199254740993',
  '    return "hello from node"',
  '',
].join('\n');

async function main() {
  const out = {};
  const deployed = await call('Deploy', {
    tenant: 'acme', alias: 'node', files: [{ name: 'node_tools.py', source: TOOLS }],
  });
  out.deploy = deployed;
  const versionId = deployed.response.deployed.version_id;

  const byVersion = await call('Execute', {
    tenant: 'acme', version_id: versionId, function: 'start_function',
    args_json: '{}', conversation_json: JSON.stringify({ state: { count: 41 } }), deadline_ms: 1000,
  });
  out.execute = byVersion;
  const byAlias = await call('Execute', {
    tenant: 'acme', alias: 'node', function: 'start_function', conversation_json: '{"state": {}}',
  });
  out.execute_alias = byAlias;
  out.compile_error = await call('Deploy', {
    tenant: 'acme', files: [{ name: 'broken.py', source: 'def f(conv):\n    return (\n' }],
  });
  out.missing = await call('Execute', {
    tenant: 'acme', version_id: '0'.repeat(64), function: 'start_function',
  });
  out.bad_json = await call('Execute', {
    tenant: 'acme', version_id: versionId, function: 'start_function', conversation_json: '{oops',
  });
  await call('SetSecret', { tenant: 'acme', name: 'node_key', value: 'node-secret-value' });
  out.secret_names = await call('ListSecretNames', { tenant: 'acme' });
  client.close();
  process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch((error) => {
  process.stderr.write(String(error && error.stack ? error.stack : error) + '\n');
  process.exit(1);
});
