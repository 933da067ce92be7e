Code.require_file("../T.exs", __DIR__)
T.run(fn ->
  try do
    Process.exit(self(), :boom)
    T.settle()
  catch
    :exit, _ -> T.out("caught", true)
  end
  T.out("survived", true)
end)
T.done()
