/*
 * tests/oidc/op.js - the real OpenID Provider of the integration tests: the npm package
 * oidc-provider (OpenID Certified; pinned by package-lock.json, installed by `make deps`),
 * served over HTTPS on 127.0.0.1 with a certificate the test made.
 *
 * Owns: the provider's configuration (clients, resource servers, token formats), its
 * signing keys and their rotation, and a log of the requests it answered.
 * Refuses: to listen anywhere but 127.0.0.1, or to run without the test's certificate.
 *
 *   node op.js --port N --cert CERT.pem --key KEY.pem --keys STATE.json
 *
 * --keys: the private JWK Set, read if it exists (a restarted OP keeps its keys, as a real
 * one would), else generated and written. Environment: OP_CLIENT_SECRET (client
 * "api-client"), OP_INTROSPECT_SECRET (client "portcullis-gateway").
 * Stdout: "ready <issuer>" once listening, then one JSON line per answered request
 * {"method","path","status"} and per rotation {"event":"rotated","kids":[...]}, so a test
 * can count what the gateway fetched.
 * Test hooks: POST /__test/rotate (or SIGHUP) puts a new key of each type first and keeps
 * the previous generation second (old and new overlap, as in a real rotation); the answer
 * lists the kids. POST /__test/stop (or SIGTERM) exits 0.
 */

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { parseArgs } from 'node:util';

import Provider, { errors } from 'oidc-provider';

const { values: args } = parseArgs({
	options: {
		port: { type: 'string' },
		cert: { type: 'string' },
		key: { type: 'string' },
		keys: { type: 'string' },
	},
});
for (const name of ['port', 'cert', 'key', 'keys']) {
	if (!args[name]) {
		console.error(`op.js: --${name} is required`);
		process.exit(2);
	}
}
const HOST = '127.0.0.1';
const ISSUER = `https://${HOST}:${Number(args.port)}`;
const API = 'https://api.test';
const SCOPES = 'items:read items:delete';

/*
 * Resource servers (RFC 8707): the client names one with resource=... at the token endpoint.
 * Every one has the audience https://api.test, the gateway's configured audience; the
 * identifier only picks the token format and the signing algorithm, so a test can get a
 * token of each kind the gateway accepts.
 */
function jwtResource(alg) {
	return {
		scope: SCOPES,
		audience: API,
		accessTokenTTL: 300,		/* short-lived: below the gateway's max lifetime */
		accessTokenFormat: 'jwt',	/* RFC 9068: typ "at+jwt", signed with the OP's keys */
		jwt: { sign: { alg } },
	};
}
const RESOURCES = {
	[API]: jwtResource('RS256'),
	[`${API}/es256`]: jwtResource('ES256'),
	[`${API}/ps256`]: jwtResource('PS256'),
	[`${API}/eddsa`]: jwtResource('EdDSA'),
	/* Opaque tokens: random strings the gateway can only check by introspection (RFC 7662). */
	[`${API}/opaque`]: { scope: SCOPES, audience: API, accessTokenTTL: 300,
	    accessTokenFormat: 'opaque' },
};

/* One private key per family the gateway verifies; kids "<family>-<hex>" read well in logs. */
const FAMILIES = [
	['rsa', 'rsa', { modulusLength: 2048 }],	/* RS256, PS256 */
	['ec', 'ec', { namedCurve: 'P-256' }],		/* ES256 */
	['ed', 'ed25519', {}],				/* EdDSA */
];

function newGeneration() {
	return FAMILIES.map(([family, type, options]) => ({
		...generateKeyPairSync(type, options).privateKey.export({ format: 'jwk' }),
		kid: `${family}-${randomBytes(6).toString('hex')}`,
		use: 'sig',
	}));
}

let keys = existsSync(args.keys) ? JSON.parse(readFileSync(args.keys, 'utf8')).keys : null;
if (!keys) {
	keys = newGeneration();
	saveKeys();
}

function saveKeys() {
	const tmp = `${args.keys}.tmp`;
	writeFileSync(tmp, JSON.stringify({ keys }), { mode: 0o600 });
	renameSync(tmp, args.keys);	/* a restart never reads a half-written file */
}

function newProvider() {
	const provider = new Provider(ISSUER, {
		clients: [{
			/* The test's client: client credentials, HTTP Basic (client_secret_basic). */
			client_id: 'api-client',
			client_secret: process.env.OP_CLIENT_SECRET,
			token_endpoint_auth_method: 'client_secret_basic',
			grant_types: ['client_credentials'],
			response_types: [],
			redirect_uris: [],
			scope: SCOPES,
		}, {
			/* The gateway: may only introspect (no grant of its own). */
			client_id: 'portcullis-gateway',
			client_secret: process.env.OP_INTROSPECT_SECRET,
			token_endpoint_auth_method: 'client_secret_basic',
			grant_types: [],
			response_types: [],
			redirect_uris: [],
		}],
		scopes: ['openid', ...SCOPES.split(' ')],
		jwks: { keys },
		features: {
			devInteractions: { enabled: false },	/* no login pages: machines only */
			clientCredentials: { enabled: true },
			introspection: { enabled: true },	/* RFC 7662, for the opaque tokens */
			revocation: { enabled: true },		/* RFC 7009: a test revokes a token */
			resourceIndicators: {
				enabled: true,
				defaultResource: () => undefined,	/* resource= is required */
				useGrantedResource: () => false,
				getResourceServerInfo(ctx, indicator) {
					if (!Object.hasOwn(RESOURCES, indicator))
						throw new errors.InvalidTarget();
					return { ...RESOURCES[indicator] };
				},
			},
		},
	});
	provider.on('server_error', (ctx, err) => console.error('op.js: server_error', err));
	return provider.callback();
}

function rotate() {
	/* New keys first: oidc-provider signs with the first key that fits the algorithm. */
	keys = [...newGeneration(), ...keys.slice(0, FAMILIES.length)];
	saveKeys();
	handler = newProvider();
	const kids = keys.map((k) => k.kid);
	console.log(JSON.stringify({ event: 'rotated', kids }));
	return kids;
}

let handler = newProvider();

function testHook(req, res) {
	const done = (status, body) => {
		res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
		res.end(JSON.stringify(body));
	};
	if (req.method !== 'POST')
		return done(405, { error: 'POST only' });
	if (req.url === '/__test/rotate')
		return done(200, { kids: rotate() });
	if (req.url === '/__test/stop') {
		res.on('finish', () => process.exit(0));
		return done(200, { stopping: true });
	}
	return done(404, { error: 'unknown test hook' });
}

const server = createServer({
	cert: readFileSync(args.cert),
	key: readFileSync(args.key),
}, (req, res) => {
	res.on('finish', () => {
		const path = req.url.split('?', 1)[0];
		console.log(JSON.stringify({ method: req.method, path, status: res.statusCode }));
	});
	if (req.url.startsWith('/__test/'))
		return testHook(req, res);
	return handler(req, res);
});

process.on('SIGHUP', () => rotate());
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));

server.listen(Number(args.port), HOST, () => console.log(`ready ${ISSUER}`));
