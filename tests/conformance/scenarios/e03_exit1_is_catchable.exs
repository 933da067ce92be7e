Code.require_file("../T.exs", __DIR__)
T.run(fn ->
  try do
    exit(:foo)
  catch
    :exit, r -> T.out("caught", r)
  end
  T.out("alive", Process.alive?(self()))
end)
T.done()
