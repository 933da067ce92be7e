Code.require_file("../T.exs", __DIR__)
defmodule Crashy do
  def run do
    receive do
      :crash -> exit(:kaboom)
    end
  end
end
T.run(fn ->
  {pid, ref} = spawn_monitor(Crashy, :run, [])
  T.out("spawned", {pid, ref})
  T.out("send", send(pid, :crash))
  T.settle()
  T.flush()
end)
T.done()
