Code.require_file("../T.exs", __DIR__)
T.main(fn ->
  for m <- [:a, {:x, 1}, :b, {:x, 2}, 3, {:y, 0}], do: send(self(), m)
  receive do {:x, _} = m -> T.out("got", m) end
  receive do m when is_integer(m) -> T.out("got", m) end
  receive do :b -> T.out("got", :b) end
  T.flush()
end)
T.done()
