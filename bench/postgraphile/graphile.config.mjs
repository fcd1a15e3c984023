// PostGraphile 5 serving the benchmark's tables, as the peer a user would pick
// instead of Plinth. Started by `plinth-bench` (src/postgraphile.rs) with
// DATABASE_URL set to the workspace's runtime role, the same role Plinth uses.
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";
import { makePgService } from "postgraphile/adaptors/pg";
import { PostGraphileConnectionFilterPreset } from "postgraphile-plugin-connection-filter";

/** @type {GraphileConfig.Preset} */
const preset = {
  extends: [PostGraphileAmberPreset, PostGraphileConnectionFilterPreset],
  // Lets `orderBy` use columns without an index, as Plinth's `order=` does.
  disablePlugins: ["PgIndexBehaviorsPlugin"],
  pgServices: [
    makePgService({
      connectionString: process.env.DATABASE_URL,
      schemas: ["tenant_custom"],
      // As many connections as the highest benchmark concurrency.
      poolConfig: { max: 32 },
    }),
  ],
  grafserv: {
    host: "127.0.0.1",
    port: Number(process.env.PORT ?? 5678),
    graphiql: false,
  },
  grafast: { explain: false },
};

export default preset;
