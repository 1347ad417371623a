import { createRoot } from "react-dom/client";
import { createMemoryRouter, RouterProvider, Link, useParams } from "react-router";

function User() {
  const { id } = useParams();
  return <p id="out">router user {id}</p>;
}

const router = createMemoryRouter(
  [
    { path: "/", element: <Link to="/users/42">go</Link> },
    { path: "/users/:id", element: <User /> },
  ],
  { initialEntries: ["/users/42"] },
);

createRoot(document.getElementById("root")).render(<RouterProvider router={router} />);
