import { Component } from "react";

export class Klass extends Component {
  state = { n: 0 };
  render() {
    return <button id="klass" onClick={() => this.setState({ n: this.state.n + 1 })}>klass k0 {this.state.n}</button>;
  }
}
