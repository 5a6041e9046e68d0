// Starts GraphiQL on /graphql: queries over HTTP, subscriptions over the
// WebSocket at /graphql/ws (graphql-ws is bundled in graphiql.min.js). The
// headers typed in the editor also go to the WebSocket as connection_init
// payload, so `x-api-key` or `authorization` work for subscriptions too.
(function () {
  var ws = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/graphql/ws";
  var fetcher = GraphiQL.createFetcher({ url: "/graphql", subscriptionUrl: ws });
  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultEditorToolsVisibility: true,
      defaultHeaders: '{\n  "x-api-key": "pk_live_…"\n}',
      shouldPersistHeaders: false,
    })
  );
})();
