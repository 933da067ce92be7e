Code.require_file("../T.exs", __DIR__)
T.run(fn ->
  me = self()
  T.out("me", me)
  T.out("links", T.info(self(), :links))
  spawn_link(fn -> send(me, {:child_links, T.info(self(), :links)}) end)
  receive do
    {:child_links, l} -> T.out("child_links", l)
  end
end)
T.done()
