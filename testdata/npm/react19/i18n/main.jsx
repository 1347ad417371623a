// i18next with react-i18next.
import i18n from "i18next";
import { initReactI18next, useTranslation } from "react-i18next";
import { createRoot } from "react-dom/client";

await i18n.use(initReactI18next).init({ lng: "de", resources: { de: { translation: { hello: "Hallo" } } } });

function App() {
  const { t } = useTranslation();
  return <p id="out">i18n {t("hello")}</p>;
}

createRoot(document.getElementById("root")).render(<App />);
