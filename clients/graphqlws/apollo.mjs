// Apollo Client 4 (`@apollo/client`) against authgraph: queries and
// mutations over its HttpLink, subscriptions over GraphQLWsLink (the
// graphql-ws client), split by operation type as Apollo's docs set it up.
import { randomUUID } from "node:crypto";
import { ApolloClient, HttpLink, InMemoryCache, gql } from "@apollo/client";
import { GraphQLWsLink } from "@apollo/client/link/subscriptions";
import { getMainDefinition } from "@apollo/client/utilities";
import { ApolloLink } from "@apollo/client/link";
import { createClient } from "graphql-ws";
import WebSocket from "ws";
import { check, expect, summary } from "../suite.mjs";

const BASE_URL = process.env.BASE_URL;
const PK = process.env.PK;

function apollo(headers, connectionParams) {
  const http = new HttpLink({ uri: `${BASE_URL}/graphql`, headers });
  const ws = new GraphQLWsLink(
    createClient({
      url: BASE_URL.replace(/^http/, "ws") + "/graphql/ws",
      webSocketImpl: WebSocket,
      connectionParams,
      retryAttempts: 0,
    })
  );
  const link = ApolloLink.split(
    ({ query }) => {
      const def = getMainDefinition(query);
      return def.kind === "OperationDefinition" && def.operation === "subscription";
    },
    ws,
    http
  );
  return new ApolloClient({ link, cache: new InMemoryCache() });
}

const email = `apollo-${randomUUID()}@example.com`;
let token = "";
let id = "";

await check("a signUp mutation with the publishable key", async () => {
  const client = apollo({ "x-api-key": PK }, {});
  const { data } = await client.mutate({
    mutation: gql`
      mutation ($i: SignUpInput!) {
        signUp(input: $i) { token user { id email } }
      }
    `,
    variables: { i: { email, password: "correct horse battery", data: { name: "Apollo" } } },
  });
  token = data.signUp.token;
  id = data.signUp.user.id;
  expect(token && data.signUp.user.email === email, JSON.stringify(data));
  client.stop();
});

await check("a me query with the user's token", async () => {
  const client = apollo({ authorization: `Bearer ${token}` }, {});
  const { data } = await client.query({ query: gql`{ me { id email data } }` });
  expect(data.me.id === id && data.me.email === email, JSON.stringify(data));
  expect(data.me.data.name === "Apollo", JSON.stringify(data));
  client.stop();
});

await check("a userChanged subscription receives the event of an updateMe mutation", async () => {
  const auth = `Bearer ${token}`;
  const client = apollo({ authorization: auth }, { authorization: auth });
  const city = `Bergen-${randomUUID().slice(0, 8)}`;
  const event = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("no event within 10 s")), 10000);
    const sub = client.subscribe({ query: gql`subscription { userChanged { id data } }` }).subscribe({
      next: (r) => {
        if (r.error) return reject(r.error);
        if (r.data?.userChanged?.data?.city === city) {
          clearTimeout(timer);
          sub.unsubscribe();
          resolve(r.data.userChanged);
        }
      },
      error: reject,
    });
  });
  // Repeated until received: the subscription starts a moment after subscribe().
  let got = null;
  event.then((e) => (got = e), () => {});
  const until = Date.now() + 10000;
  while (!got && Date.now() < until) {
    await client.mutate({ mutation: gql`mutation ($c: JSON!) { updateMe(input: {data: {city: $c}}) { id } }`, variables: { c: city } });
    await Promise.race([event, new Promise((r) => setTimeout(r, 300))]);
  }
  const changed = await event;
  expect(changed.id === id, JSON.stringify(changed));
  client.stop();
});

summary();
process.exit();
