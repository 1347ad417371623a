import { createApp, h, ref } from "vue";

createApp({
  setup() {
    const n = ref(3);
    return () => h("p", { id: "out" }, `vue ${n.value}`);
  },
}).mount("#root");
