// `npm run docs` builds the API reference with TypeDoc (typedoc.json: the three entry points,
// warnings are errors). This runs the same conversion and validation without writing HTML and
// asserts TypeDoc has nothing to say: no undocumented export or public member, no type that an
// export references but the API does not export, no broken {@link}.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Application, Logger, LogLevel } from 'typedoc';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

/** Keeps every warning and error TypeDoc logs. */
class CollectingLogger extends Logger {
  readonly messages: string[] = [];
  override log(message: string, level: LogLevel): void {
    super.log(message, level);
    if (level >= LogLevel.Warn) this.messages.push(`${LogLevel[level]}: ${message}`);
  }
}

it('TypeDoc converts and validates the public API without a warning', async () => {
  const cwd = process.cwd();
  process.chdir(REPO);
  try {
    const app = await Application.bootstrapWithPlugins({ options: `${REPO}typedoc.json`, treatWarningsAsErrors: false });
    const logger = new CollectingLogger();
    app.logger = logger;
    const project = await app.convert();
    assert.ok(project, `conversion failed:\n${logger.messages.join('\n')}`);
    app.validate(project);
    assert.deepEqual(logger.messages, []);
    // The three entry points are the reference's three modules.
    assert.deepEqual(project.children?.map((m) => m.name).sort(), ['floe', 'floe/compaction', 'floe/ingest']);
  } finally {
    process.chdir(cwd);
  }
});
