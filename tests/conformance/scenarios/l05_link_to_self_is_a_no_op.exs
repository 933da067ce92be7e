Code.require_file("../T.exs", __DIR__)
T.main(fn ->
  T.out("link", Process.link(self()))
  T.out("links", T.info(self(), :links))
  T.out("unlink", Process.unlink(self()))
end)
T.done()
