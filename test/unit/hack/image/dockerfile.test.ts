import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { copies, each, parseDockerfile, runtimeConfig, workdir, type Stage } from '../../../../hack/image/dockerfile.js';
import { repoRoot } from '../../../testenv/config.js';

const base = { Entrypoint: ['/nodejs/bin/node'], Cmd: ['x.js'], User: '65532', WorkingDir: '/home/nonroot', Env: ['PATH=/bin', 'LANG=C'] };

test('stages: ARG defaults fill FROM, AS names a stage, continuation lines join, comments go', () => {
  const stages = parseDockerfile(`# c\nARG IMG=debian:12\nFROM \${IMG} AS build\nWORKDIR /src\nRUN a \\\n  && b\n# x\nFROM $IMG\nCOPY --from=build /src/out ./out\n`);
  expect(stages).toEqual([
    { from: 'debian:12', name: 'build', lines: ['WORKDIR /src', 'RUN a    && b'] },
    { from: 'debian:12', lines: ['COPY --from=build /src/out ./out'] },
  ]);
  expect(workdir(stages[0] as Stage)).toBe('/src');
  expect(copies(stages[1] as Stage)).toEqual([{ from: 'build', sources: ['/src/out'], dest: './out' }]);
  expect(each(stages[0] as never, 'run')).toEqual([]);
  expect(each(stages[0] as never, 'RUN')).toEqual(['a    && b']);
});

test('runtime config: ENV adds to and replaces the base, EXPOSE defaults to tcp, ENTRYPOINT drops the base CMD', () => {
  const stages = parseDockerfile(
    ['FROM b', 'WORKDIR /app', 'WORKDIR sub', 'ENV LANG=C.UTF-8 A="x y"', 'ENV OLD form', 'USER 1:2', 'EXPOSE 80 53/udp', 'ENTRYPOINT ["/bin/e"]'].join('\n'),
  );
  expect(runtimeConfig(stages, base)).toEqual({
    Entrypoint: ['/bin/e'],
    User: '1:2',
    WorkingDir: '/app/sub',
    Env: ['PATH=/bin', 'LANG=C.UTF-8', 'A=x y', 'OLD=form'],
    ExposedPorts: { '80/tcp': {}, '53/udp': {} },
  });
  expect(runtimeConfig(parseDockerfile('FROM b\nCMD ["y.js"]'), base).Cmd).toEqual(['y.js']);
  expect(() => runtimeConfig(parseDockerfile('FROM b\nCMD node y.js'), base)).toThrow(/exec \(JSON\) form/);
});

test("the project's Dockerfile: a build stage, a deps stage and a runtime stage copying from both", () => {
  const stages = parseDockerfile(readFileSync(join(repoRoot, 'Dockerfile'), 'utf8'));
  expect(stages.map((s) => s.name)).toEqual(['build', 'deps', undefined]);
  expect(new Set(copies(stages[2] as Stage).map((c) => c.from))).toEqual(new Set(['build', 'deps']));
});
