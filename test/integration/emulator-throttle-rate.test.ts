import { afterAll, describe, expect, it } from "vitest";
import { PartnerCentralEmulator } from "../../src/emulator/index.js";
import { createSdkInvitationApi } from "../../src/aws/sdk-invitation-api.js";
import { classifyError } from "../../src/aws/classify-error.js";
import { TEST_CREDENTIALS } from "../helpers/pipeline.js";
import { accept } from "../../src/operations/accept.js";

describe("emulator throttleRate (throttles whatever the caller's rate)", () => {
  let draws = 0;
  // Every other request is throttled: 0.1 < 0.5, 0.9 >= 0.5.
  const emuPromise = PartnerCentralEmulator.start({ throttleRate: 0.5, random: () => (draws++ % 2 === 0 ? 0.1 : 0.9) });
  afterAll(async () => (await emuPromise).close());

  it(
    "answers that fraction of calls ThrottlingException " + "through the SDK, at any pace, and can be switched off",
    async () => {
      const emu = await emuPromise;
      const api = createSdkInvitationApi({ endpoint: emu.url, credentials: TEST_CREDENTIALS });
      try {
        const invs = emu.seedInvitations(4);
        const results = [];
        for (const inv of invs) {
          results.push(
            await accept
              .call(api, {
                catalog: inv.catalog,
                identifier: inv.identifier,
                clientToken: `t-${inv.identifier}`,
                request: {},
              })
              .then(
                () => "ok",
                (e) => classifyError(e).kind,
              ),
          );
          await new Promise((r) => setTimeout(r, 300)); // slow: far below any rate limit
        }
        expect(results).toEqual(["throttle", "ok", "throttle", "ok"]);
        emu.setFaults({ throttleRate: undefined });
        const inv = emu.seedInvitation();
        await expect(
          accept.call(api, { catalog: inv.catalog, identifier: inv.identifier, clientToken: "t-last", request: {} }),
        ).resolves.toBeDefined();
        expect(() => emu.setFaults({ throttleRate: 2 })).toThrow(/throttleRate must be within 0..1/);
      } finally {
        api.destroy();
      }
    },
  );
});
