import { http, HttpResponse } from "msw";
import { setupWorker } from "msw/browser";

const handlers = [http.get("/api/user", () => HttpResponse.json({ name: "msw" }))];
const worker = setupWorker(...handlers);
handlers[0]
  .run({ request: new Request(new URL("/api/user", location.href)) })
  .then((res) => res.response.json())
  .then((body) => {
    document.getElementById("root").innerHTML = `<p id="out">${typeof worker.start} ${body.name}</p>`;
  });
