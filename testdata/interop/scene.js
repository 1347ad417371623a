export default class Scene {
  name = "scene";
}
