// The Node client @google-cloud/aiplatform (google-gax in REST "fallback" mode) against a running kiln.
// Started by tests/e2e/node_client_test.sh, which sets KILN_ENDPOINT_PORT (and KILN_TOKEN when kiln
// was started with a tokens file). Run by hand:
//   KILN_ENDPOINT_PORT=8080 node --test tests/node/
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import aiplatform from '@google-cloud/aiplatform';
import { googleAuthLibrary } from 'google-gax';

const { PipelineServiceClient, ModelServiceClient, JobServiceClient, helpers, protos } = aiplatform;
const v1 = protos.google.cloud.aiplatform.v1;

const PORT = Number(process.env.KILN_ENDPOINT_PORT);
if (!Number.isInteger(PORT) || PORT <= 0) {
  throw new Error('KILN_ENDPOINT_PORT must be the port of a running kiln (see tests/e2e/node_client_test.sh)');
}
const TOKEN = process.env.KILN_TOKEN || 'node-client-test-token';
const PROJECT = 'node-proj';
const LOCATION = 'us-central1';
const PARENT = `projects/${PROJECT}/locations/${LOCATION}`;
const TRAINING_IMAGE = 'us-docker.pkg.dev/vertex-ai/training/sklearn-cpu.1-0:latest';
const SERVING_IMAGE = 'us-docker.pkg.dev/vertex-ai/prediction/sklearn-cpu.1-0:latest';

// Offline auth: a real google-auth-library OAuth2Client holding a static access token and no refresh
// token. google-gax's REST stub calls authClient.fetch(), which adds "Authorization: Bearer TOKEN";
// with no expiry set the token is never refreshed, so nothing is fetched from Google.
function makeAuthClient() {
  const auth = new googleAuthLibrary.OAuth2Client();
  auth.setCredentials({ access_token: TOKEN, token_type: 'Bearer' });
  return auth;
}

function clientOptions() {
  return {
    apiEndpoint: '127.0.0.1',
    port: PORT,
    protocol: 'http',
    fallback: 'rest',
    projectId: PROJECT,
    authClient: makeAuthClient(),
  };
}

const clients = [];
function open(Client) {
  const c = new Client(clientOptions());
  clients.push(c);
  return c;
}
after(async () => {
  await Promise.all(clients.map((c) => c.close()));
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Polls get() until isFinal(resource) or the deadline; returns the last resource seen.
async function pollUntil(get, isFinal, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = await get();
    if (isFinal(last) || Date.now() >= deadline) return last;
    await sleep(500);
  }
}

// With numeric enums on the wire, the decoder still hands back enum names (toObject enums: String).
const PIPELINE_STATES = Object.keys(v1.PipelineState);
const PIPELINE_FINAL = new Set(['PIPELINE_STATE_SUCCEEDED', 'PIPELINE_STATE_FAILED', 'PIPELINE_STATE_CANCELLED']);
const JOB_STATES = Object.keys(v1.JobState);
const JOB_FINAL = new Set(['JOB_STATE_SUCCEEDED', 'JOB_STATE_FAILED', 'JOB_STATE_CANCELLED', 'JOB_STATE_EXPIRED']);

test('CustomJob: createCustomJob and getCustomJob over REST', { timeout: 90_000 }, async () => {
  const jobs = open(JobServiceClient);
  const [created] = await jobs.createCustomJob({
    parent: PARENT,
    customJob: {
      displayName: 'node-custom-job',
      jobSpec: {
        workerPoolSpecs: [
          {
            machineSpec: { machineType: 'n1-standard-4' },
            replicaCount: 1,
            containerSpec: { imageUri: TRAINING_IMAGE, command: ['python3', '-c', 'print("hello from node")'] },
          },
        ],
      },
    },
  });
  assert.match(created.name, new RegExp(`^${PARENT}/customJobs/[0-9]+$`));
  assert.equal(created.displayName, 'node-custom-job');
  assert.ok(JOB_STATES.includes(created.state), `unknown JobState ${created.state}`);

  const [got] = await jobs.getCustomJob({ name: created.name });
  assert.equal(got.name, created.name);
  assert.equal(got.displayName, 'node-custom-job');
  assert.equal(got.jobSpec.workerPoolSpecs[0].machineSpec.machineType, 'n1-standard-4');
  assert.ok(JOB_STATES.includes(got.state), `unknown JobState ${got.state}`);

  const done = await pollUntil(
    async () => (await jobs.getCustomJob({ name: created.name }))[0],
    (j) => JOB_FINAL.has(j.state),
    60_000,
  );
  assert.equal(done.state, 'JOB_STATE_SUCCEEDED', `custom job ended as ${done.state}: ${JSON.stringify(done.error)}`);
});

test('TrainingPipeline: custom task trains, uploads a model, getModel finds it', { timeout: 150_000 }, async () => {
  const pipelines = open(PipelineServiceClient);
  const models = open(ModelServiceClient);

  const trainingTaskInputs = helpers.toValue({
    workerPoolSpecs: [
      {
        machineSpec: { machineType: 'n1-standard-4' },
        replicaCount: 1,
        containerSpec: {
          imageUri: TRAINING_IMAGE,
          command: ['python3', '-c', 'import os; open(os.environ["AIP_MODEL_DIR"]+"model.txt","w").write("w")'],
        },
      },
    ],
    baseOutputDirectory: { outputUriPrefix: 'gs://node-bucket/out' },
  });

  const [created] = await pipelines.createTrainingPipeline({
    parent: PARENT,
    trainingPipeline: {
      displayName: 'node-pipeline',
      trainingTaskDefinition: 'gs://google-cloud-aiplatform/schema/trainingjob/definition/custom_task_1.0.0.yaml',
      trainingTaskInputs,
      modelToUpload: { displayName: 'node-model', containerSpec: { imageUri: SERVING_IMAGE } },
    },
  });
  assert.match(created.name, new RegExp(`^${PARENT}/trainingPipelines/[0-9]+$`));

  const [got] = await pipelines.getTrainingPipeline({ name: created.name });
  assert.equal(got.name, created.name);
  assert.equal(got.displayName, 'node-pipeline');
  assert.ok(PIPELINE_STATES.includes(got.state), `unknown PipelineState ${got.state}`);

  const done = await pollUntil(
    async () => (await pipelines.getTrainingPipeline({ name: created.name }))[0],
    (p) => PIPELINE_FINAL.has(p.state),
    120_000,
  );
  assert.equal(done.state, 'PIPELINE_STATE_SUCCEEDED', `pipeline ended as ${done.state}: ${JSON.stringify(done.error)}`);
  assert.ok(done.modelToUpload?.name, 'a succeeded pipeline names its uploaded model (modelToUpload.name)');
  assert.ok(done.modelToUpload?.versionId, 'a succeeded pipeline sets modelToUpload.versionId');

  const [model] = await models.getModel({ name: done.modelToUpload.name });
  assert.equal(model.displayName, 'node-model');
});
