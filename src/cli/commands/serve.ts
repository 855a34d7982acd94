/** `gift serve [--model DIR] [--host H] [--port N] [--token T]`: an OpenAI-compatible model server. */
import { bundledModelDir } from '../../core/generate';
import { loadOnnxServedModel, ServerConfigError, startServer, checkServerConfig } from '../../core/model/server';
import { intOption, parseCommandArgs, UsageError, stringOptions } from '../args';
import { errorMessage } from '../../core/errors';

const help = `usage: gift serve [--model DIR] [--host 127.0.0.1] [--port 8000] [--token T] [--name ID] [--threads N]

Serves an image-to-CadQuery ONNX model over an OpenAI-compatible API (GET /v1/models,
POST /v1/chat/completions with one image as a data: URL and n samples), for editors elsewhere:
  gift generate IMAGE --backend openai --endpoint http://HOST:PORT/v1
  --model DIR    model directory with model.json (default: the bundled model under models/)
  --host H       address to bind (default 127.0.0.1, this machine only)
  --port N       default 8000
  --token T      require "Authorization: Bearer T" (also read from env GIFT_SERVE_TOKEN, which
                 keeps it out of the process list); required to bind anything but loopback
  --name ID      the model id clients see (default: the model card's name)
  --threads N    onnxruntime threads (default: all cores)
Stops on Ctrl-C.`;

export async function serveCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    argv,
    {
      ...stringOptions('model', 'host', 'port', 'token', 'name', 'threads'),
    },
    help,
  );
  if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'\n\n${help}`);
  const host = values.host ?? '127.0.0.1';
  const port = intOption('port', values.port, 8000, 0);
  if (port > 65535) throw new UsageError(`--port must be at most 65535, got ${port}`);
  const token = values.token ?? (process.env.GIFT_SERVE_TOKEN || undefined);
  const threads = values.threads === undefined ? undefined : intOption('threads', values.threads, 1);
  try {
    checkServerConfig({ host, token });
  } catch (e) {
    if (e instanceof ServerConfigError) throw new UsageError(e.message);
    throw e;
  }

  let modelDir: string;
  try {
    modelDir = values.model ?? bundledModelDir();
  } catch (e) {
    console.error(`gift serve: ${errorMessage(e)}`);
    return 1;
  }
  let model: Awaited<ReturnType<typeof loadOnnxServedModel>>;
  try {
    model = await loadOnnxServedModel(modelDir, { id: values.name, threads: threads ?? 0 });
  } catch (e) {
    console.error(`gift serve: cannot load the model: ${errorMessage(e)}`);
    return 1;
  }
  let server: Awaited<ReturnType<typeof startServer>>;
  try {
    server = await startServer({ model, host, port, token, log: (line) => console.error(`${new Date().toISOString()} ${line}`) });
  } catch (e) {
    await model.close?.();
    console.error(`gift serve: ${errorMessage(e)}`);
    return 1;
  }
  console.log(`serving ${model.id} at ${server.url}${token ? ' (token required)' : ''}`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  console.error('stopping…');
  await server.close();
  await model.close?.();
  return 0;
}
